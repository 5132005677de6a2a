import Foundation
import Testing
@testable import APIServer
import KubeModel

/// The node authorizer over a real store, chained to RBAC with the default roles.
@Suite struct NodeAuthorizerTests {
    let nodeA = UserInfo(name: "system:node:node-a", groups: ["system:nodes", "system:authenticated"])

    func res(_ verb: String, _ resource: String, group: String = "", sub: String = "", ns: String = "default", name: String = "",
             user: UserInfo? = nil, fieldSelector: String? = nil) -> RequestAttributes {
        var a = RequestAttributes(user: user ?? nodeA, verb: verb, apiGroup: group, resource: resource, subresource: sub,
                                  namespace: ns, name: name)
        a.fieldSelector = fieldSelector
        return a
    }

    func setUp() async throws -> NodeAuthorizer {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let registry = Registry(store: store, catalog: ResourceCatalog(BuiltinResources.all))
        try await APIServerBuilder.bootstrap(registry)
        try await DefaultRoles.ensure(registry)
        let pods = try #require(registry.catalog.strategy(group: "", plural: "pods"))
        func pod(_ name: String, node: String, spec extra: [String: JSONValue]) async throws {
            var spec: [String: JSONValue] = ["nodeName": .string(node), "containers": [["name": "c", "image": "x"]]]
            spec.merge(extra) { _, new in new }
            let body: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": .object(spec)]
            _ = try await registry.create(pods, version: "v1", namespace: "default", body: body, options: WriteOptions())
        }
        try await pod("a1", node: "node-a", spec: [
            "imagePullSecrets": [["name": "pull"]],
            "volumes": [["name": "p", "projected": ["sources": [["secret": ["name": "projected"]], ["configMap": ["name": "pcm"]]]]]],
            "containers": [["name": "c", "image": "x", "envFrom": [["secretRef": ["name": "envfrom"]]]]],
        ])
        try await pod("b1", node: "node-b", spec: ["volumes": [["name": "s", "secret": ["secretName": "b-secret"]]]])
        return NodeAuthorizer(store: store, next: RBACAuthorizer(store: store))
    }

    @Test func podsAndTheirSecrets() async throws {
        let auth = try await setUp()
        #expect(await auth.authorize(res("get", "pods", name: "a1")).allowed)
        #expect(await !auth.authorize(res("get", "pods", name: "b1")).allowed)
        #expect(await !auth.authorize(res("get", "pods", name: "missing")).allowed)
        #expect(await auth.authorize(res("update", "pods", sub: "status", name: "a1")).allowed)
        #expect(await !auth.authorize(res("patch", "pods", sub: "status", name: "b1")).allowed)
        #expect(await !auth.authorize(res("create", "pods", sub: "exec", name: "a1")).allowed)
        for secret in ["pull", "projected", "envfrom"] {
            #expect(await auth.authorize(res("get", "secrets", name: secret)).allowed, "\(secret)")
        }
        #expect(await auth.authorize(res("get", "configmaps", name: "pcm")).allowed)
        #expect(await !auth.authorize(res("get", "secrets", name: "b-secret")).allowed)
        #expect(await !auth.authorize(res("get", "secrets", ns: "kube-system", name: "pull")).allowed)
        #expect(await !auth.authorize(res("list", "secrets")).allowed)
        #expect(await auth.authorize(res("watch", "secrets", fieldSelector: "metadata.name=pull")).allowed)
        #expect(await !auth.authorize(res("watch", "secrets", fieldSelector: "metadata.name=b-secret")).allowed)
        #expect(await !auth.authorize(res("update", "secrets", name: "pull")).allowed)
    }

    @Test func podListsOfOtherNodesAreDecidedByTheNodeRole() async throws {
        let auth = try await setUp()
        #expect(await auth.authorize(res("watch", "pods", ns: "", fieldSelector: "spec.nodeName=node-a")).allowed)
        #expect(await auth.authorize(res("list", "pods", ns: "", fieldSelector: "status.phase!=Failed,spec.nodeName==node-a")).allowed)
        // Every pod is readable through `system:node` (NetworkPolicy peers live on any node).
        #expect(await auth.authorize(res("list", "pods", ns: "", fieldSelector: "spec.nodeName=node-b")).allowed)
        #expect(await auth.authorize(res("watch", "pods", ns: "")).allowed)
        #expect(await auth.authorize(res("watch", "namespaces", ns: "")).allowed)
        #expect(await auth.authorize(res("list", "networkpolicies", group: "networking.k8s.io", ns: "")).allowed)
        // Reads only: no writes of pods of other nodes, no policy writes.
        #expect(await !auth.authorize(res("patch", "pods", sub: "status", name: "b1")).allowed)
        #expect(await !auth.authorize(res("create", "networkpolicies", group: "networking.k8s.io")).allowed)
        #expect(await !auth.authorize(res("update", "namespaces", ns: "", name: "default")).allowed)
        // Without the role's binding the node has nothing but its own pods.
        let store = try SQLiteStore(path: nil, historySize: 100)
        let bare = NodeAuthorizer(store: store, next: RBACAuthorizer(store: store))
        #expect(await bare.authorize(res("list", "pods", ns: "", fieldSelector: "spec.nodeName=node-a")).allowed)
        #expect(await !bare.authorize(res("list", "pods", ns: "")).allowed)
    }

    @Test func nodesLeasesEventsAndTheRest() async throws {
        let auth = try await setUp()
        #expect(await auth.authorize(res("get", "nodes", ns: "", name: "node-b")).allowed)
        #expect(await auth.authorize(res("patch", "nodes", sub: "status", ns: "", name: "node-a")).allowed)
        #expect(await !auth.authorize(res("patch", "nodes", sub: "status", ns: "", name: "node-b")).allowed)
        #expect(await !auth.authorize(res("delete", "nodes", ns: "", name: "node-b")).allowed)
        #expect(await auth.authorize(res("create", "nodes", ns: "")).allowed)
        let lease = { (verb: String, ns: String, name: String) in
            self.res(verb, "leases", group: "coordination.k8s.io", ns: ns, name: name)
        }
        #expect(await auth.authorize(lease("update", "kube-node-lease", "node-a")).allowed)
        #expect(await auth.authorize(lease("create", "kube-node-lease", "")).allowed)
        #expect(await !auth.authorize(lease("update", "kube-node-lease", "node-b")).allowed)
        #expect(await !auth.authorize(lease("get", "kube-system", "node-a")).allowed)
        #expect(await auth.authorize(res("create", "events")).allowed)
        // Falls through to the system:node ClusterRole.
        #expect(await auth.authorize(res("list", "services")).allowed)
        #expect(await !auth.authorize(res("list", "deployments", group: "apps")).allowed)
        // Without the group the name means nothing; other users go straight to RBAC.
        let impostor = UserInfo(name: "system:node:node-a", groups: ["system:authenticated"])
        #expect(await !auth.authorize(res("get", "pods", name: "a1", user: impostor)).allowed)
        let admin = UserInfo(name: "root", groups: ["system:masters"])
        #expect(await auth.authorize(res("get", "secrets", name: "b-secret", user: admin)).allowed)
        #expect(auth.rbacAuthorizer != nil)
    }

    @Test func podReferences() {
        let pod: JSONValue = ["spec": [
            "volumes": [["name": "a", "secret": ["secretName": "s1"]], ["name": "b", "configMap": ["name": "c1"]]],
            "initContainers": [["name": "i", "env": [["name": "E", "valueFrom": ["secretKeyRef": ["name": "s2", "key": "k"]]]]]],
            "containers": [["name": "c", "envFrom": [["configMapRef": ["name": "c2"]]]]],
        ]]
        let refs = PodReferences(pod)
        #expect(refs.secrets == ["s1", "s2"])
        #expect(refs.configMaps == ["c1", "c2"])
    }
}
