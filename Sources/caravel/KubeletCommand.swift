import ArgumentParser
import Foundation
import Kubelet
import Logging
import ServiceLifecycle

struct KubeletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubelet",
        abstract: "Join a node to an API server and run the pods bound to it.",
        discussion: """
        The kubeconfig should carry the node's own identity (CN=system:node:NAME, O=system:nodes): \
        `caravel node-kubeconfig --node-name NAME` on the server's machine writes one. \
        Or join with the command `caravel server` printed (DIR/join-command.txt): \
        `--server URL --token ID.SECRET --ca-cert-hash sha256:HEX` gets a certificate by a \
        CertificateSigningRequest and keeps it in ROOT/kubelet.kubeconfig for later starts. \
        With `--runtime fake --nodes N` the nodes are NAME-1 … NAME-N, and one node's identity may not \
        act for the others (the node authorizer): give a kubeconfig of a user allowed to (e.g. the admin's).
        """
    )

    @Option(help: "Kubeconfig of the API server (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "API server to join, https://HOST:PORT (with --token and --ca-cert-hash, instead of --kubeconfig).")
    var server: String?

    @Option(help: "Bootstrap token ID.SECRET printed by `caravel server`.")
    var token: String?

    @Option(help: "sha256:HEX of the cluster CA's public key; the join is refused if the server's CA differs.")
    var caCertHash: String?

    @Option(help: "Seconds to wait for the join certificate to be approved and signed.")
    var bootstrapTimeout: Int = 300

    @Option(help: "Name of this node.")
    var nodeName: String = ProcessInfo.processInfo.hostName.lowercased()

    @Option(help: "Directory for pod volumes, container records and logs (default: ~/.caravel/kubelet-NODE).")
    var rootDir: String?

    @Option(help: "Container runtime: process (real processes), oci (images pulled from registries, run with runc) or fake (containers that only pretend, for scale tests).")
    var runtime: String = "process"

    @OptionGroup(title: "Images (--runtime oci)")
    var images: ImageFlags

    @Option(help: "With --runtime fake: how many nodes to run in this process (named NODE-1 … NODE-N).")
    var nodes: Int = 1

    @Option(help: "Port of the kubelet's HTTPS server (logs, exec); 0 picks a free port.")
    var port: Int = 10250

    @Option(help: "Address the kubelet's server binds to.")
    var bindAddress: String = "0.0.0.0"

    @OptionGroup(title: "Cluster DNS")
    var dns: DNSFlags
    @Option(help: "The API server's service CIDR, which the service proxy captures (default: derived from the kubernetes Service's IP).")
    var serviceClusterIPRange: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard ["process", "oci", "fake"].contains(runtime) else { throw ValidationError("--runtime must be process, oci or fake") }
        try images.validate()
        guard nodes >= 1 else { throw ValidationError("--nodes must be at least 1") }
        guard nodes == 1 || runtime == "fake" else { throw ValidationError("--nodes needs --runtime fake") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard NodeName.isValid(nodeName) else { throw ValidationError("--node-name must be a lowercase DNS subdomain, got \"\(nodeName)\"") }
        if let range = serviceClusterIPRange, IPv4CIDR(range) == nil {
            throw ValidationError("--service-cluster-ip-range must be an IPv4 CIDR such as 10.96.0.0/12, got \"\(range)\"")
        }
        if server != nil || token != nil || caCertHash != nil {
            guard server != nil, token != nil, caCertHash != nil else {
                throw ValidationError("joining needs --server, --token and --ca-cert-hash together")
            }
            guard kubeconfig == nil else { throw ValidationError("use either --kubeconfig or --server/--token/--ca-cert-hash") }
            guard nodes == 1 else { throw ValidationError("joining with a token runs one node: drop --nodes") }
            guard bootstrapTimeout >= 1 else { throw ValidationError("--bootstrap-timeout must be at least 1") }
        }
    }

    func run() async throws {
        var logger = Logger(label: "caravel.kubelet")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var path = kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".kube/config")
        let root = rootDir ?? (NSHomeDirectory() as NSString).appendingPathComponent(".caravel/kubelet-\(nodeName)")
        if let server, let token, let caCertHash {
            var join = KubeletBootstrap.Join(server: server, token: token, caCertHash: caCertHash)
            join.timeout = .seconds(bootstrapTimeout)
            path = try await KubeletBootstrap(join: join, nodeName: nodeName, rootDirectory: root, logger: logger).ensureKubeconfig()
        }
        var options = KubeletService.Options()
        options.runtime = runtime
        images.apply(to: &options, defaultRegistriesConfig: nil)
        options.nodes = nodes
        options.serverPort = port
        options.bindAddress = bindAddress
        options.dns = dns.options
        options.serviceCIDR = serviceClusterIPRange
        let service = KubeletService(kubeconfigPath: path, nodeName: nodeName, rootDirectory: root, options: options, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Node names are DNS subdomains (RFC 1123), as Kubernetes requires.
enum NodeName {
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last, label.count <= 63 else { return false }
            return first.isLetter || first.isNumber ? (last.isLetter || last.isNumber)
                && label.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" } : false
        }
    }
}
