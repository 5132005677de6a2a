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

    @OptionGroup var api: APIServingFlags

    @Option(help: "IPv4 range of Service cluster IPs.")
    var serviceClusterIPRange: String = "10.96.0.0/12"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup(title: "Advertising")
    var advertise: AdvertiseFlags

    @OptionGroup(title: "Datastore")
    var datastore: DatastoreFlags

    func validate() throws {
        guard let range = IPv4CIDR(serviceClusterIPRange), (12...28).contains(range.prefixLength) else {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 CIDR between /12 and /28, got \"\(serviceClusterIPRange)\"")
        }
    }

    func run() async throws {
        var logger = Logger(label: "caravel")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var config = api.configuration(dataDirectory: dataDir)
        config.serviceClusterIPRange = serviceClusterIPRange
        config.etcd = try datastore.etcd()
        advertise.apply(to: &config)
        let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
