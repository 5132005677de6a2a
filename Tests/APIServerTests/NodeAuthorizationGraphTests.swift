import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import APIServer

/// The node authorizer's graph: edges appear when a pod is bound, follow it through updates,
/// and go with the last pod that used them; fed from a real store's list and watch.
@Suite struct NodeAuthorizationGraphTests {
    static func pod(_ name: String, node: String?, secret: String, sa: String? = nil) -> JSONValue {
        var spec: JSONValue = ["containers": [["name": "c", "image": "x"]], "volumes": [["name": "s", "secret": ["secretName": .string(secret)]]]]
        if let node { spec["nodeName"] = .string(node) }
        if let sa { spec["serviceAccountName"] = .string(sa) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }

    @Test func edgesFollowBindingUpdatesAndDeletes() throws {
        let graph = NodeAuthorizationGraph(store: try SQLiteStore(path: nil, historySize: 100))
        let key = "/registry/core/pods/default/web"
        graph.apply(key: key, pod: Self.pod("web", node: nil, secret: "db"))
        #expect(!graph.has(node: "a", kind: "secrets", namespace: "default", name: "db"))
        graph.apply(key: key, pod: Self.pod("web", node: "a", secret: "db", sa: "runner"))
        #expect(graph.has(node: "a", kind: "secrets", namespace: "default", name: "db"))
        #expect(graph.has(node: "a", kind: "serviceaccounts", namespace: "default", name: "runner"))
        #expect(!graph.has(node: "b", kind: "secrets", namespace: "default", name: "db"))
        // Two pods share the edge; it stays until both are gone.
        let other = "/registry/core/pods/default/web-2"
        graph.apply(key: other, pod: Self.pod("web-2", node: "a", secret: "db"))
        graph.apply(key: key, pod: Self.pod("web", node: "a", secret: "cache", sa: "runner"))
        #expect(graph.has(node: "a", kind: "secrets", namespace: "default", name: "db"))
        #expect(graph.has(node: "a", kind: "secrets", namespace: "default", name: "cache"))
        graph.apply(key: other, pod: nil)
        #expect(!graph.has(node: "a", kind: "secrets", namespace: "default", name: "db"))
        #expect(!graph.has(node: "a", kind: "serviceaccounts", namespace: "default", name: "default"))
        graph.apply(key: key, pod: nil)
        #expect(graph.podCount == 0)
        #expect(!graph.has(node: "a", kind: "secrets", namespace: "default", name: "cache"))
    }

    @Test func listsThenFollowsTheStoreWatch() async throws {
        let store = try SQLiteStore(path: nil, historySize: 100)
        _ = try await store.create(key: "/registry/core/pods/default/old", object: Self.pod("old", node: "a", secret: "first"))
        let graph = NodeAuthorizationGraph(store: store)
        let running = Task { try await graph.run() }
        defer { running.cancel() }
        #expect(await eventually { graph.has(node: "a", kind: "secrets", namespace: "default", name: "first") })
        _ = try await store.create(key: "/registry/core/pods/default/new", object: Self.pod("new", node: "b", secret: "second"))
        #expect(await eventually { graph.has(node: "b", kind: "secrets", namespace: "default", name: "second") })
        _ = try await store.delete(key: "/registry/core/pods/default/old") { _ in }
        #expect(await eventually { !graph.has(node: "a", kind: "secrets", namespace: "default", name: "first") })
    }
}
