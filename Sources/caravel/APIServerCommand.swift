import APIServer
import ArgumentParser
import Foundation
import KubeModel
import Kubelet
import Logging
import ServiceLifecycle

/// `caravel apiserver`: the Kubernetes API alone, as kube-apiserver; controllers and nodes run
/// beside it (`caravel controller-manager`, `caravel kubelet`). Several of them can serve one
/// etcd cluster (`--datastore-endpoint`): each sees the others' writes through its etcd watch.
struct APIServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apiserver",
        abstract: "Run only the API server (no controllers, no kubelet), over SQLite or an etcd cluster shared with other API servers."
    )

    @Option(help: "Directory for the PKI, the encryption keys, the kubeconfigs and (without --datastore-endpoint) the SQLite store. API servers sharing an etcd need copies of one DIR/pki (CA, ServiceAccount key) and DIR/encryption-keys.json.")
    var dataDir: String = (NSHomeDirectory() as NSString).appendingPathComponent(".caravel")

    @Option(help: "Port the API server listens on.")
    var port: Int = 6443

    @Option(help: "Address the API server binds to.")
    var bindAddress: String = "127.0.0.1"

    @Option(help: "Number of recent events kept for resuming watches (at least 1000).")
    var watchCacheSize: Int = 10_000

    @Option(help: "Serve HTTPS with generated certificates and require credentials; false serves plain HTTP without authentication (debugging only).")
    var tls: Bool = true

    @Option(help: "IPv4 range of Service cluster IPs.")
    var serviceClusterIPRange: String = "10.96.0.0/12"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Advertising")
    var advertise: AdvertiseFlags

    @OptionGroup(title: "Datastore")
    var datastore: DatastoreFlags

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard watchCacheSize >= 1000 else { throw ValidationError("--watch-cache-size must be at least 1000") }
        guard let range = IPv4CIDR(serviceClusterIPRange), (12...28).contains(range.prefixLength) else {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 CIDR between /12 and /28, got \"\(serviceClusterIPRange)\"")
        }
    }

    func run() async throws {
        var logger = Logger(label: "caravel")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var config = APIServerConfiguration(dataDirectory: dataDir, port: port, bindAddress: bindAddress, watchCacheSize: watchCacheSize,
                                            tls: tls)
        config.serviceClusterIPRange = serviceClusterIPRange
        config.etcd = try datastore.etcd()
        advertise.apply(to: &config)
        let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
