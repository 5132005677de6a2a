import APIServer
import ArgumentParser
import Controllers
import Foundation
import KubeModel
import Kubelet
import Logging
import ServiceLifecycle

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the all-in-one server: the Kubernetes API over an embedded SQLite store or an etcd cluster."
    )

    @Option(help: "Directory for the store and the admin kubeconfig.")
    var dataDir: String = (NSHomeDirectory() as NSString).appendingPathComponent(".caravel")

    @OptionGroup var api: APIServingFlags

    @OptionGroup(title: "Advertising")
    var advertise: AdvertiseFlags

    @Option(help: "Name of the built-in node.")
    var nodeName: String = ProcessInfo.processInfo.hostName.lowercased()

    @Option(help: "Container runtime of the built-in node: process, oci (images pulled from registries, run with runc) or fake.")
    var runtime: String = "process"

    @OptionGroup(title: "Images (--runtime oci)")
    var images: ImageFlags

    @Option(help: "Port of the built-in kubelet's HTTPS server (logs, exec); 0 picks a free port.")
    var kubeletPort: Int = 10250

    @Flag(help: "Do not run a kubelet (no built-in node) inside the server.")
    var disableKubelet = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Do not run the controller manager inside the server.")
    var disableControllers = false

    @OptionGroup(title: "Cluster DNS")
    var dns: DNSFlags
    @Option(help: "IPv4 range of pod addresses (nodes get /24s of it). Default: 10.244.0.0/16, or the next free 10.x.0.0/16 when another server on this host holds it; the choice is kept in DIR/network-ranges.json.")
    var clusterCIDR: String?

    @Option(help: "IPv4 range of Service cluster IPs, captured on the node by the service proxy. Default: 10.96.0.0/12, or a free 10.x.0.0/16 (x in 64-95) when another server on this host holds it; kept in DIR/network-ranges.json.")
    var serviceClusterIPRange: String?

    @OptionGroup(title: "Datastore")
    var datastore: DatastoreFlags

    @OptionGroup(title: "Horizontal pod autoscaler")
    var autoscaler: AutoscalerFlags

    func validate() throws {
        guard ["process", "oci", "fake"].contains(runtime) else { throw ValidationError("--runtime must be process, oci or fake") }
        try images.validate()
        guard (0...65535).contains(kubeletPort) else { throw ValidationError("--kubelet-port must be between 0 and 65535") }
        if let cidr = clusterCIDR {
            guard let range = IPv4CIDR(cidr), (8...24).contains(range.prefixLength) else {
                throw ValidationError("--cluster-cidr must be an IPv4 CIDR between /8 and /24, got \"\(cidr)\"")
            }
        }
        if let cidr = serviceClusterIPRange {
            guard let range = IPv4CIDR(cidr), (12...28).contains(range.prefixLength) else {
                throw ValidationError("--service-cluster-ip-range must be an IPv4 CIDR between /12 and /28, got \"\(cidr)\"")
            }
        }
        guard NodeName.isValid(nodeName) else { throw ValidationError("--node-name must be a lowercase DNS subdomain, got \"\(nodeName)\"") }
    }

    func run() async throws {
        var logger = Logger(label: "caravel")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // Pod and service ranges of this server, apart from any other server's on this host.
        // A store from before ranges were recorded already holds the default ranges' addresses.
        let existingStore = FileManager.default.fileExists(atPath: (dataDir as NSString).appendingPathComponent("state.db"))
            && !FileManager.default.fileExists(atPath: NetworkRangeRegistry.rangesFile(dataDirectory: dataDir))
        let ranges = try NetworkRangeRegistry.resolve(
            dataDirectory: dataDir, clusterCIDR: clusterCIDR ?? (existingStore ? NetworkRanges.defaultClusterCIDR : nil),
            serviceCIDR: serviceClusterIPRange ?? (existingStore ? NetworkRanges.defaultServiceCIDR : nil))
        logger.info("network ranges", metadata: ["clusterCIDR": "\(ranges.clusterCIDR)", "serviceCIDR": "\(ranges.serviceCIDR)"])
        var config = api.configuration(dataDirectory: dataDir)
        // Without the controller manager, the server finalizes deleted namespaces itself.
        config.runsNamespaceCleaner = disableControllers
        config.nodeName = disableKubelet ? nil : nodeName
        config.serviceClusterIPRange = ranges.serviceCIDR
        config.etcd = try datastore.etcd()
        advertise.apply(to: &config)
        let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
        // The controllers and the kubelet talk to this server over HTTP(S) with their own client
        // certificates, as they would from another process; listed after it, they stop first.
        var services: [any Service] = [app]
        if !disableControllers {
            // In-process, the manager signs CSRs with the server's own CA (DIR/pki/ca.*).
            var cmOptions = ControllerManager.Options()
            cmOptions.autoscaling = autoscaler.options
            cmOptions.clusterCIDR = ranges.clusterCIDR
            cmOptions.csrSigning = api.tls ? try CSRSigning(signer: CSRSigner(pkiDirectory: config.pkiDirectory)) : nil
            services.append(ControllerManagerService(kubeconfigPath: config.controllerManagerKubeconfigPath, waitForReady: true,
                                                     options: cmOptions, logger: logger))
        }
        if !disableKubelet {
            var options = KubeletService.Options()
            options.runtime = runtime
            images.apply(to: &options, defaultRegistriesConfig: (dataDir as NSString).appendingPathComponent("registries.yaml"))
            options.serverPort = kubeletPort
            options.waitForReady = true
            options.dns = dns.options
            options.serviceCIDR = ranges.serviceCIDR
            var kubeletLogger = Logger(label: "caravel.kubelet")
            kubeletLogger.logLevel = logger.logLevel
            services.append(KubeletService(kubeconfigPath: config.kubeletKubeconfigPath, nodeName: nodeName,
                                           rootDirectory: (dataDir as NSString).appendingPathComponent("kubelet"),
                                           options: options, logger: kubeletLogger))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

