import Foundation
import KubeModel
import KubeTesting
import NIOCore
import Testing
@testable import KubeClient

/// Several API servers in one kubeconfig: the `caravel.dev/servers` cluster extension parsed,
/// and a client whose first server is down reaching the real one on a loopback port.
@Suite struct ServerFailoverTests {
    static func kubeconfig(extensionServers: JSONValue?) -> JSONValue {
        var cluster: JSONValue = ["server": "https://127.0.0.1:6443/", "insecure-skip-tls-verify": true]
        if let extensionServers {
            cluster["extensions"] = [["name": "other", "extension": ["x": 1]],
                                     ["name": "caravel.dev/servers", "extension": ["servers": extensionServers]]]
        }
        return ["current-context": "c", "contexts": [["name": "c", "context": ["cluster": "k"]]],
                "clusters": [["name": "k", "cluster": cluster]]]
    }

    @Test func theServersExtensionListsFallbacks() throws {
        let plain = try Kubeconfig.parse(Self.kubeconfig(extensionServers: nil))
        #expect(plain.servers == ["https://127.0.0.1:6443"])
        let several = try Kubeconfig.parse(Self.kubeconfig(extensionServers: [
            "https://127.0.0.1:6443", "https://127.0.0.1:6444/", "https://127.0.0.1:6445", "https://127.0.0.1:6444",
        ]))
        #expect(several.server == "https://127.0.0.1:6443")
        #expect(several.fallbackServers == ["https://127.0.0.1:6444", "https://127.0.0.1:6445"])
        #expect(throws: KubeconfigError.self) { try Kubeconfig.parse(Self.kubeconfig(extensionServers: ["http://127.0.0.1:6444"])) }
        #expect(throws: KubeconfigError.self) { try Kubeconfig.parse(Self.kubeconfig(extensionServers: [5])) }
        #expect(throws: KubeconfigError.self) { try Kubeconfig.parse(Self.kubeconfig(extensionServers: "https://127.0.0.1:6444")) }
    }

    @Test func connectionErrorsMoveOnOnlyWhereSafe() {
        #expect(ServerFailover.shouldTryNext(IOError(errnoCode: ECONNREFUSED, reason: "connect"), method: "POST"))
        #expect(ServerFailover.shouldTryNext(IOError(errnoCode: ECONNRESET, reason: "read"), method: "GET"))
        #expect(!ServerFailover.shouldTryNext(IOError(errnoCode: ECONNRESET, reason: "read"), method: "POST"))
        #expect(!ServerFailover.shouldTryNext(KubeconfigError("no"), method: "GET"))
    }

    @Test func aDownServerIsSkipped() async throws {
        try await withInProcessAPIServer { _, config in
            var connection = try Kubeconfig.load(path: config.kubeconfigPath)
            let live = connection.server
            let down = try BoundLoopbackSocket()
            defer { down.close() }
            connection.server = "https://127.0.0.1:\(down.port)"
            connection.fallbackServers = [live]
            let client = try KubeRESTClient(connection: connection, options: .init(requestTimeout: .seconds(20)))
            do {
                let ns = try await client.get("/api/v1/namespaces/default")
                #expect(ns.name == "default")
                #expect(client.url("/x", query: [:]) == live + "/x", "the server that answered stays the current one")
                let created = try await client.create("/api/v1/namespaces/default/configmaps",
                                                      ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "failover"]])
                #expect(created.name == "failover")
                let events = try await client.watch("/api/v1/namespaces/default/configmaps", query: ["resourceVersion": "0"])
                var seen = false
                for try await event in events {
                    if event.object.name == "failover" { seen = true; break }
                }
                #expect(seen)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }
}
