import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The ReplicaSet reconciler against the recording fake client: the exact requests one
/// reconcile sends (the in-process-server behaviour is covered by DeploymentEndToEndTests).
@Suite struct ReplicaSetReconcilerTests {
    let client = RecordingClient()
    let replicaSets = ObjectCache()
    let pods = ObjectCache()

    func replicaSet(replicas: Int) -> JSONValue {
        client.seed([
            "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ["name": "web", "namespace": "default"],
            "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": "web"]],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx:1"]]]]],
        ], as: ReplicaSetController.resource, into: replicaSets)
    }

    /// A running pod on a node; `owner` makes the ReplicaSet its controller.
    @discardableResult
    func pod(_ name: String, owner: JSONValue?, ready: Bool = true) -> JSONValue {
        var meta: JSONValue = ["name": .string(name), "namespace": "default", "labels": ["app": "web"]]
        if let owner { meta["ownerReferences"] = [ObjectRules.ownerReference(to: owner, apiVersion: "apps/v1", kind: "ReplicaSet")] }
        return client.seed([
            "apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": ["nodeName": "node-1", "containers": [["name": "web", "image": "nginx:1"]]],
            "status": ["phase": "Running",
                       "conditions": [["type": "Ready", "status": ready ? "True" : "False", "lastTransitionTime": "2026-01-01T00:00:00Z"]]],
        ], as: ReplicaSetController.podResource, into: pods)
    }

    func controller(_ expectations: Expectations = Expectations()) -> ReplicaSetController {
        ReplicaSetController(client: client, replicaSets: replicaSets, pods: pods, expectations: expectations)
    }

    @Test func missingReplicasAreCreatedWithTheOwnerReference() async throws {
        let rs = replicaSet(replicas: 3)
        pod("web-a", owner: rs)
        _ = try await controller().reconcile(key: "default/web")

        let actions = client.actions()
        #expect(actions.count == 3, "\(actions)")
        let creates = actions.filter { $0.matches("create", "pods") }
        #expect(creates.count == 2)
        for create in creates {
            #expect(create.namespace == "default")
            #expect(create.object?[path: ["metadata", "generateName"]] == "web-")
            #expect(create.object?[path: ["metadata", "ownerReferences"]] == [[
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": .string(rs.uid ?? ""),
                "controller": true, "blockOwnerDeletion": true,
            ]])
            #expect(create.object?[path: ["metadata", "labels"]] == ["app": "web"])
            #expect(create.object?["spec"] == ["containers": [["name": "web", "image": "nginx:1"]]])
        }
        // The status counts what the cache held this round: one pod.
        let status = try #require(actions.last)
        #expect(status.matches("patch", "replicasets", subresource: "status"))
        #expect(status.object?[path: ["status", "replicas"]] == 1)
        #expect(client.tracker.objects(ReplicaSetController.podResource, namespace: "default").count == 3)
        #expect(client.actions(on: "events").filter { $0.object?["reason"] == "SuccessfulCreate" }.count == 2)
    }

    @Test func scaleDownDeletesTheNotReadyPodFirst() async throws {
        let rs = replicaSet(replicas: 2)
        pod("web-a", owner: rs)
        let notReady = pod("web-b", owner: rs, ready: false)
        pod("web-c", owner: rs)
        _ = try await controller().reconcile(key: "default/web")

        let deletes = client.actions().filter { $0.verb == "delete" }
        #expect(deletes.count == 1)
        #expect(deletes.first?.matches("delete", "pods") == true)
        #expect(deletes.first?.name == "web-b")
        // The uid precondition keeps a same-named successor safe.
        #expect(deletes.first?.object?[path: ["preconditions", "uid"]] == .string(notReady.uid ?? ""))
        #expect(client.actions().filter { $0.verb == "create" && $0.resource.plural != "events" }.isEmpty)
    }

    @Test func orphansAreAdoptedUnderTheirResourceVersion() async throws {
        let rs = replicaSet(replicas: 1)
        let orphan = pod("web-a", owner: nil)
        _ = try await controller().reconcile(key: "default/web")

        let actions = client.actions()
        let adopt = try #require(actions.first)
        #expect(adopt.matches("patch", "pods") && adopt.name == "web-a" && adopt.patchType == .merge)
        #expect(adopt.object?[path: ["metadata", "resourceVersion"]] == .string(orphan.resourceVersion ?? ""))
        #expect(adopt.object?[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == .string(rs.uid ?? ""))
        // Adopted, the pod counts: nothing to create.
        #expect(!actions.contains { $0.matches("create", "pods") })
    }

    @Test func pendingCreationsHoldTheNextReconcile() async throws {
        let rs = replicaSet(replicas: 2)
        pod("web-a", owner: rs)
        let reconciler = controller()
        _ = try await reconciler.reconcile(key: "default/web")
        #expect(client.actions(on: "pods").count == 1)
        client.clearActions()

        // The informer has not delivered the new pod yet: creating again would overshoot.
        _ = try await reconciler.reconcile(key: "default/web")
        #expect(client.actions(on: "pods").isEmpty)
    }

    @Test func aFailingCreateIsReportedAndRetried() async throws {
        let rs = replicaSet(replicas: 2)
        pod("web-a", owner: rs)
        let forbidden = KubeAPIError(code: 403, reason: "Forbidden", message: "pods \"web-\" is forbidden: exceeded quota")
        client.fail("create", "pods", with: forbidden)

        await #expect(throws: KubeAPIError.self) { try await controller().reconcile(key: "default/web") }
        let actions = client.actions()
        #expect(actions.filter { $0.matches("create", "pods") }.count == 1, "one batch of one, then it stops")
        let status = try #require(actions.last)
        #expect(status.matches("patch", "replicasets", subresource: "status"))
        let condition = status.object?[path: ["status", "conditions"]]?.arrayValue?.first
        #expect(condition?["type"] == "ReplicaFailure" && condition?["reason"] == "FailedCreate")
        #expect(client.actions(on: "events").contains { $0.object?["reason"] == "FailedCreate" })
    }
}
