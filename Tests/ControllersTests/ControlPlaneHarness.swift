import APIServer
import Foundation
import KubeClient
import KubeTesting
import Logging
import ServiceLifecycle
import Testing
@testable import Controllers

/// Runs `body` against a fresh control plane: the real API server in-process (TLS, on a free
/// port, in a temporary data dir) and the ControllerManager talking to it over HTTPS with the
/// admin kubeconfig, exactly as `caravel server` wires them. Both stop before this returns.
/// Fake nodes have no kubelet renewing their Leases, so the node lifecycle controller's grace
/// period defaults to an hour here; node lifecycle tests pass a short one and renew leases.
func withControlPlane(nodeMonitorGracePeriod: Duration = .seconds(3600),
                      _ body: (KubeRESTClient) async throws -> Void) async throws {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    var options = ControllerManager.Options(workers: 2, leaderElection: .testing())
    options.nodeMonitorGracePeriod = nodeMonitorGracePeriod
    try await withInProcessAPIServer(alongside: { client in [ControllerManager(client: client, options: options, logger: logger)] }) { client, _ in
        try await body(client)
    }
}

/// Starts the real API server alone (no controllers) for `body`, which gets the admin client
/// and the server's configuration (for kubeconfigs of further clients). Stops it afterwards.
func withAPIServer(_ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void) async throws {
    try await withInProcessAPIServer(body)
}

extension LeaderElectionConfiguration {
    /// Short periods so tests do not wait on production timings.
    static func testing(identity: String = LeaderElectionConfiguration.defaultIdentity(), leaseDuration: Duration = .seconds(8),
                        releaseOnCancel: Bool = true) -> LeaderElectionConfiguration {
        LeaderElectionConfiguration(identity: identity, leaseDuration: leaseDuration, renewDeadline: .seconds(6),
                                    retryPeriod: .milliseconds(500), releaseOnCancel: releaseOnCancel)
    }
}
