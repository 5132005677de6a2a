import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The namespace controller against the real API server: a deleted namespace is emptied of
/// its ConfigMaps, Deployment, ReplicaSet and pods, and then goes itself.
@Suite struct NamespaceControllerTests {
    static let namespaces = ResourcePath.core("namespaces")

    @Test(.timeLimit(.minutes(5))) func deletedNamespaceEmptiesThenGoes() async throws {
        try await withControlPlane(scenario)
    }

    func scenario(_ client: KubeRESTClient) async throws {
        let ns = "doomed"
        _ = try await client.create(Self.namespaces.path, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]])
        let configMaps = ResourcePath.core("configmaps", namespace: ns)
        let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: ns)
        let replicaSets = ResourcePath(group: "apps", version: "v1", plural: "replicasets", namespace: ns)
        let pods = ResourcePath.core("pods", namespace: ns)
        for name in ["one", "two"] {
            _ = try await client.create(configMaps.path, ["apiVersion": "v1", "kind": "ConfigMap",
                                                          "metadata": ["name": .string(name)], "data": ["k": "v"]])
        }
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": [
                "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx"]]]],
            ],
        ]
        _ = try await client.create(deployments.path, deployment)
        func count(_ r: ResourcePath) async throws -> Int { try await client.list(r.path)["items"]?.arrayValue?.count ?? 0 }
        let populated = try await eventually(timeout: .seconds(30)) {
            let (p, rs) = (try await count(pods), try await count(replicaSets))
            return p == 2 && rs == 1
        }
        try #require(populated)

        let deleted = try await client.delete(Self.namespaces.named(ns).path)
        #expect(deleted[path: ["status", "phase"]]?.stringValue == "Terminating")

        var left: [String: Int] = [:]
        let gone = try await eventually(timeout: .seconds(30)) {
            do {
                _ = try await client.get(Self.namespaces.named(ns).path)
                left = ["configmaps": try await count(configMaps), "deployments": try await count(deployments),
                        "replicasets": try await count(replicaSets), "pods": try await count(pods)]
                return false
            } catch let e as KubeAPIError where e.isNotFound {
                return true
            }
        }
        try #require(gone, "still in the namespace: \(left)")
        for r in [configMaps, deployments, replicaSets, pods] { #expect(try await count(r) == 0, "\(r.plural)") }

        // The system namespaces are untouched.
        _ = try await client.get(Self.namespaces.named("default").path)
    }
}
