import APIServer
import Foundation
import KubeClient
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
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-cp-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let config = APIServerConfiguration(dataDirectory: dir, port: try freePort(), bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    // Listed after the server, the controllers stop first; until the server listens, their
    // informers just retry.
    var options = ControllerManager.Options(workers: 2, leaderElection: .testing())
    options.nodeMonitorGracePeriod = nodeMonitorGracePeriod
    let manager = ControllerManager(client: client, options: options, logger: logger)
    let services = ServiceGroup(configuration: .init(services: [app, manager], logger: logger))
    try await run(services, client: client) { try await body($0) }
}

/// A TCP port nobody listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Starts the real API server alone (no controllers) for `body`, which gets the admin client
/// and the server's configuration (for kubeconfigs of further clients). Stops it afterwards.
func withAPIServer(_ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-api-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let config = APIServerConfiguration(dataDirectory: dir, port: try freePort(), bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    try await run(services, client: client) { try await body($0, config) }
}

/// Runs `services` until `body` (given the admin client, once /readyz answers) returns, then
/// shuts them down gracefully and closes the client, also when `body` fails.
private func run(_ services: ServiceGroup, client: KubeRESTClient, _ body: (KubeRESTClient) async throws -> Void) async throws {
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let ready = await eventually(timeout: .seconds(20)) { (try? await client.raw("GET", "/readyz")) != nil }
            try #require(ready)
            try await body(client)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

extension LeaderElectionConfiguration {
    /// Short periods so tests do not wait on production timings.
    static func testing(identity: String = LeaderElectionConfiguration.defaultIdentity(), leaseDuration: Duration = .seconds(8),
                        releaseOnCancel: Bool = true) -> LeaderElectionConfiguration {
        LeaderElectionConfiguration(identity: identity, leaseDuration: leaseDuration, renewDeadline: .seconds(6),
                                    retryPeriod: .milliseconds(500), releaseOnCancel: releaseOnCancel)
    }
}
