import Foundation
import KubeModel
import Testing
@testable import KubeTesting

/// The in-process API server the unit tests share.
@Suite struct InProcessAPIServerTests {
    @Test(.timeLimit(.minutes(5))) func aServerWhosePortWasTakenStartsAgainOnAnother() async throws {
        let taken = try BoundLoopbackSocket()
        defer { taken.close() }
        // The first port offered is the taken one, as when a connection took it between the
        // choice and the bind.
        let offered = Locked<[Int]>([])
        try await withInProcessAPIServer(ports: {
            let port = try offered.value.isEmpty ? taken.port : freeLoopbackPort()
            offered.withLock { $0.append(port) }
            return port
        }) { client, config in
            #expect(config.port != taken.port)
            let answer = try await client.raw("GET", "/readyz")
            #expect(answer == Array("ok".utf8))
        }
        #expect(offered.value.count == 2)
        #expect(offered.value.first == taken.port)
    }
}
