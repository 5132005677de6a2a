import APIServer
import Foundation
import KubeClient
import KubeModel
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
    try await withInProcessAPIServer(ports: freeLoopbackPort, alongside: alongside, body)
}

/// As above, with the server's port taken from `ports` (a test hands it a taken one).
func withInProcessAPIServer(
    ports: () throws -> Int,
    alongside: (KubeRESTClient) throws -> [any Service] = { _ in [] },
    _ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void
) async throws {
    // The free port is chosen before the server binds it; in between, any new connection on
    // the machine may take it as its local port. The server then stops before it is ready:
    // start it again on another port (`body` has not run yet).
    var attempt = 1
    while true {
        do {
            return try await runInProcessAPIServer(port: try ports(), alongside: alongside, body)
        } catch let stopped as InProcessAPIServerStopped where attempt < 3 {
            attempt += 1
            Logger(label: "test").warning("in-process API server stopped before it was ready; starting it again",
                                          metadata: ["error": "\(stopped.why)"])
        }
    }
}

/// The in-process server's services ended before it answered `/readyz` (typically: its port
/// was taken).
struct InProcessAPIServerStopped: Error, CustomStringConvertible {
    let why: String
    var description: String { "the in-process API server stopped before it was ready: \(why)" }
}

private func runInProcessAPIServer(
    port: Int,
    alongside: (KubeRESTClient) throws -> [any Service],
    _ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void
) async throws {
    let scratch = ScratchDirectory(prefix: "caravel-test")
    let dir = scratch.path
    defer { withExtendedLifetime(scratch) {} }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let config = APIServerConfiguration(dataDirectory: dir, port: port, bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    let services = ServiceGroup(configuration: .init(services: [app] + (try alongside(client)), logger: logger))
    // How the services ended, once they have: the wait for readiness ends too.
    let ended = Locked<String?>(nil)
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await services.run()
                    ended.value = "the services returned"
                } catch {
                    ended.value = "\(error)"
                    throw error
                }
            }
            // Generous: many in-process servers start at once when the unit tests run in parallel.
            let ready = await eventually(timeout: .seconds(90)) {
                if ended.value != nil { return true }
                return (try? await client.raw("GET", "/readyz")) != nil
            }
            if let why = ended.value { throw InProcessAPIServerStopped(why: why) }
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
