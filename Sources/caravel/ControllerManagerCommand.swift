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
        abstract: "Run the controllers (ReplicaSet, Deployment) against an API server."
    )

    @Option(help: "Kubeconfig of the API server to manage (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "Workers per controller.")
    var workers: Int = 5

    @Option(help: "Elect a leader on a Lease so that only one controller manager acts at a time; false runs the controllers at once.")
    var leaderElect: Bool = true

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1") }
    }

    func run() async throws {
        var logger = Logger(label: "caravel.controllers")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let path = kubeconfig ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".kube/config")
        let service = ControllerManagerService(kubeconfigPath: path, waitForReady: true,
                                               options: .init(workers: workers, leaderElection: leaderElect ? .init() : nil),
                                               logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
