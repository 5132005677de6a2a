import KubeModel
import KubeTesting
import Testing
@testable import KubeClient

/// The recording fake client keeps the API server's semantics that reconcilers rely on:
/// generated names, optimistic concurrency, delete preconditions and finalizers, subresources,
/// selectors, and Kubernetes' error codes.
@Suite struct RecordingClientTests {
    let client = RecordingClient()
    let pods = ResourcePath.core("pods", namespace: "default")
    let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "default")

    func pod(_ name: String? = nil, labels: JSONValue = ["app": "web"]) -> JSONValue {
        var meta: JSONValue = ["labels": labels]
        if let name { meta["name"] = .string(name) } else { meta["generateName"] = "web-" }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": ["containers": [["name": "c", "image": "x"]]]]
    }

    @Test func recordsEveryRequestInOrder() async throws {
        let created = try await client.create(pods.path, pod())
        _ = try await client.get(pods.named(created.name ?? "").path)
        _ = try await client.patch(pods.named(created.name ?? "").path, ["metadata": ["labels": ["tier": "front"]]])
        try await client.delete(pods.named(created.name ?? "").path)
        #expect(client.actions.map(\.verb) == ["create", "get", "patch", "delete"])
        #expect(client.actions.allSatisfy { $0.resource == .core("pods") && $0.namespace == "default" })
        #expect(client.actions[0].name == nil && client.actions[1].name == created.name)
        #expect(client.actions[2].patchType == .merge)
    }

    @Test func createsStampMetadataAndRefuseDuplicates() async throws {
        let a = try await client.create(pods.path, pod())
        let b = try await client.create(pods.path, pod())
        #expect(a.name != b.name && a.name?.hasPrefix("web-") == true && a.name?.count == 9)
        #expect(a.uid != nil && a.uid != b.uid && a.namespace == "default")
        _ = try await client.create(pods.path, pod("fixed"))
        await #expect(throws: KubeAPIError(code: 409, reason: "AlreadyExists", message: "pods \"fixed\" already exists")) {
            try await client.create(pods.path, pod("fixed"))
        }
    }

    @Test func staleResourceVersionsConflict() async throws {
        let created = try await client.create(pods.path, pod("p"))
        let path = pods.named("p").path
        _ = try await client.update(path, created)
        do {
            _ = try await client.update(path, created)
            Issue.record("a stale update must conflict")
        } catch let e as KubeAPIError { #expect(e.isConflict) }
        do {
            _ = try await client.patch(path, ["metadata": ["resourceVersion": .string(created.resourceVersion ?? "")]])
            Issue.record("a stale patch must conflict")
        } catch let e as KubeAPIError { #expect(e.isConflict) }
    }

    @Test func deletesHonourPreconditionsAndFinalizers() async throws {
        var p = pod("p")
        p[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try await client.create(pods.path, p)
        let path = pods.named("p").path
        await #expect(throws: KubeAPIError.self) { try await client.delete(path, options: ["preconditions": ["uid": "other"]]) }
        let held = try await client.delete(path)
        #expect(held[path: ["metadata", "deletionTimestamp"]] != nil)
        #expect(try await client.get(path).name == "p")
        await #expect(throws: KubeAPIError.self) { try await client.delete(pods.named("absent").path) }
    }

    @Test func subresourcesWriteOnlyTheirPart() async throws {
        _ = try await client.create(deployments.path, [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": ["replicas": 2, "selector": ["matchLabels": ["app": "web"]]],
        ])
        let path = deployments.named("web")
        var scalePath = path
        scalePath.subresource = "scale"
        var scale = try await client.get(scalePath.path)
        #expect(scale["kind"] == "Scale" && scale[path: ["spec", "replicas"]] == 2 && scale[path: ["status", "selector"]] == "app=web")
        scale[path: ["spec", "replicas"]] = 5
        _ = try await client.update(scalePath.path, scale)
        var statusPath = path
        statusPath.subresource = "status"
        _ = try await client.patch(statusPath.path, ["status": ["replicas": 5], "spec": ["replicas": 9]])
        let d = try await client.get(path.path)
        #expect(d[path: ["spec", "replicas"]] == 5 && d[path: ["status", "replicas"]] == 5)
        #expect(d[path: ["metadata", "generation"]] == 2)
    }

    @Test func listsFilterByNamespaceAndSelector() async throws {
        _ = try await client.create(pods.path, pod("a"))
        _ = try await client.create(pods.path, pod("b", labels: ["app": "db"]))
        _ = try await client.create(ResourcePath.core("pods", namespace: "other").path, pod("c"))
        let selected = try await client.list(pods.path, query: ["labelSelector": "app=web"])
        #expect(selected["items"]?.arrayValue?.compactMap(\.name) == ["a"])
        let all = try await client.list(ResourcePath.core("pods").path)
        #expect(all["items"]?.arrayValue?.count == 3)
    }

    @Test func reactorsInjectErrorsAndAnswers() async throws {
        client.fail("create", "pods", with: KubeAPIError(code: 403, reason: "Forbidden", message: "quota"))
        await #expect(throws: KubeAPIError(code: 403, reason: "Forbidden", message: "quota")) {
            try await client.create(pods.path, pod())
        }
        client.prependReactor("get", "*") { action in action.name == "canned" ? ["kind": "Pod", "metadata": ["name": "canned"]] : nil }
        #expect(try await client.get(pods.named("canned").path).name == "canned")
        await #expect(throws: KubeAPIError.self) { try await client.get(pods.named("other").path) }
        #expect(client.actions.count == 3, "refused requests are recorded too")
        #expect(client.tracker.objects(.core("pods")).isEmpty)
    }
}
