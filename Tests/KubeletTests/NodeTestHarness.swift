import APIServer
import Foundation
import KubeClient
import Logging
import ServiceLifecycle
import Testing

/// Runs `body` against the real API server started in-process (TLS, a free port, a temporary
/// data dir), with the admin client and the server's configuration (for further kubeconfigs).
/// The server stops and the client closes before this returns. The ControllersTests harness
/// does the same, but test targets cannot share code.
func withNodeTestServer(_ body: (KubeRESTClient, APIServerConfiguration) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-node-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let config = APIServerConfiguration(dataDirectory: dir, port: try nodeTestFreePort(), bookmarkInterval: .seconds(1))
    let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
    let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
    let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let ready = await nodeEventually(timeout: .seconds(20)) { (try? await client.raw("GET", "/readyz")) != nil }
            try #require(ready)
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

/// Polls `condition` until it holds or three times `timeout` passes: generous, as the suites
/// share a loaded 2-core machine; the pause between polls grows from 20 ms to 100 ms.
func nodeEventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout * 3
    var pause = Duration.milliseconds(20)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(100))
    }
    return try await condition()
}

/// A TCP port nobody listens on right now.
func nodeTestFreePort() throws -> Int {
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
