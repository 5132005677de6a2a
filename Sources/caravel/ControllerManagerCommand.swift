import APIServer
import ArgumentParser
import Controllers
import Foundation
import Kubelet
import Logging
import ServiceLifecycle

struct ControllerManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller-manager",
        abstract: "Run the controllers (ReplicaSet, Deployment, HorizontalPodAutoscaler, ...) against an API server."
    )

    @Option(help: "Kubeconfig of the API server to manage (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "Workers per controller.")
    var workers: Int = 5

    @Option(help: "Elect a leader on a Lease so that only one controller manager acts at a time; false runs the controllers at once.")
    var leaderElect: Bool = true

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "PEM CA certificate that signs approved CertificateSigningRequests (the server's DIR/pki/ca.crt).")
    var clusterSigningCertFile: String?

    @Option(help: "PEM private key of --cluster-signing-cert-file (DIR/pki/ca.key).")
    var clusterSigningKeyFile: String?

    @Option(help: "IPv4 range nodes' podCIDRs (/24 each) are allocated from.")
    var clusterCIDR: String = NodeIPAMController.defaultClusterCIDR

    @OptionGroup(title: "Horizontal pod autoscaler")
    var autoscaler: AutoscalerFlags

    @Option(help: "How often the API server's metrics feed samples the kubelets. Accepted for the same command line as `caravel server`; the autoscaler reads whatever the metrics APIs serve.")
    var metricsResolution: Duration = .seconds(15)

    func validate() throws {
        guard let range = IPv4CIDR(clusterCIDR), (8...24).contains(range.prefixLength) else {
            throw ValidationError("--cluster-cidr must be an IPv4 CIDR between /8 and /24, got \"\(clusterCIDR)\"")
        }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
        guard (clusterSigningCertFile == nil) == (clusterSigningKeyFile == nil) else {
            throw ValidationError("--cluster-signing-cert-file and --cluster-signing-key-file go together")
        }
    }

    func run() async throws {
        var logger = Logger(label: "caravel.controllers")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let path = kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".kube/config")
        var options = ControllerManager.Options(workers: workers, leaderElection: leaderElect ? .init() : nil)
        options.autoscaling = autoscaler.options
        options.clusterCIDR = clusterCIDR
        if let cert = clusterSigningCertFile, let key = clusterSigningKeyFile {
            options.csrSigning = CSRSigning(signer: try CSRSigner(certificateFile: cert, keyFile: key))
        }
        let service = ControllerManagerService(kubeconfigPath: path, waitForReady: true, options: options, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension CSRSigning {
    /// The CSR controllers' view of the cluster CA.
    init(signer: CSRSigner) {
        self.init(subject: { CSRSigner.subject(ofRequestPEM: $0) },
                  sign: { try signer.sign(requestPEM: $0, signerName: $1, usages: $2, expirationSeconds: $3) })
    }
}
