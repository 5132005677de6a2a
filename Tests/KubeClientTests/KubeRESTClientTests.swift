import Testing
import KubeModel
@testable import KubeClient

@Suite struct KubeRESTClientTests {
    @Test func urlsEncodeQueriesDeterministically() async throws {
        let client = try KubeRESTClient(connection: ClusterConnection(server: "http://127.0.0.1:1"))
        #expect(client.url("/api/v1/pods", query: [:]) == "http://127.0.0.1:1/api/v1/pods")
        #expect(client.url("api/v1/pods", query: ["watch": "true", "labelSelector": "app in (a,b),tier=web"])
            == "http://127.0.0.1:1/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%3Dweb&watch=true")
        try await client.shutdown()
    }

    @Test func connectionRefusedIsAnErrorNotAHang() async throws {
        // Port 1 on loopback is closed on any sane test machine.
        let client = try KubeRESTClient(connection: ClusterConnection(server: "http://127.0.0.1:1"),
                                        options: .init(requestTimeout: .seconds(5)))
        await #expect(throws: (any Error).self) { _ = try await client.get("/version") }
        await #expect(throws: (any Error).self) { _ = try await client.watch("/api/v1/configmaps") }
        try await client.shutdown()
    }
}
