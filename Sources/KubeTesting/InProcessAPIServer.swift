import APIServer
import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The in-process server did not answer `/readyz` in time.
public struct InProcessAPIServerNotReady: Error, CustomStringConvertible {
    public var description: String { "the in-process API server did not become ready" }
}

/// Runs `body` against the real API server started in-process (TLS, a free loopback port, a
/// temporary data dir) with the admin client and the server's configuration (for kubeconfigs of
/// further clients). `alongside` adds services that run with it (a ControllerManager, say);
/// listed after the server, they stop first, and until the server listens they just retry.
/// Everything stops, the client closes and the data dir goes before this returns, also when
/// `body` fails.
public func withInProcessAPIServer(
    alongside: (KubeRESTClient) throws -> [any Service] = { _ in [] },
    _ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void
) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let config = APIServerConfiguration(dataDirectory: dir, port: try freeLoopbackPort(), bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    let services = ServiceGroup(configuration: .init(services: [app] + (try alongside(client)), logger: logger))
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            // Generous: many in-process servers start at once when the unit tests run in parallel.
            let ready = await eventually(timeout: .seconds(90)) { (try? await client.raw("GET", "/readyz")) != nil }
            guard ready else { throw InProcessAPIServerNotReady() }
            try await body(client, config)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}
