import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// ReplicationControllers run through the replicaset controller's logic with their equality
/// selector: missing pods are created controlled by the ReplicationController, orphans adopted.
@Suite struct ReplicationControllerReconcilerTests {
    let client = RecordingClient()
    let controllers = ObjectCache()
    let pods = ObjectCache()

    @Test func replicasAreKeptWithTheEqualitySelector() async throws {
        let rc = client.seed([
            "apiVersion": "v1", "kind": "ReplicationController", "metadata": ["name": "web", "namespace": "default"],
            "spec": ["replicas": 2, "selector": ["app": "web"],
                     "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx:1"]]]]],
        ], as: ReplicaOwnerKind.replicationController.resource, into: controllers)
        client.seed(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "orphan", "namespace": "default", "labels": ["app": "web"]],
                     "spec": ["containers": [["name": "web", "image": "nginx:1"]]], "status": ["phase": "Running"]],
                    as: ReplicaSetController.podResource, into: pods)
        client.seed(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "stranger", "namespace": "default", "labels": ["app": "db"]],
                     "spec": ["containers": [["name": "db", "image": "db:1"]]], "status": ["phase": "Running"]],
                    as: ReplicaSetController.podResource, into: pods)

        let controller = ReplicaSetController(kind: .replicationController, client: client, replicaSets: controllers, pods: pods)
        _ = try await controller.reconcile(key: "default/web")

        let adopt = try #require(client.actions().first { $0.matches("patch", "pods") })
        #expect(adopt.name == "orphan")
        let creates = client.actions().filter { $0.matches("create", "pods") }
        #expect(creates.count == 1)
        #expect(creates.first?.object?[path: ["metadata", "ownerReferences"]] == [[
            "apiVersion": "v1", "kind": "ReplicationController", "name": "web", "uid": .string(rc.uid ?? ""),
            "controller": true, "blockOwnerDeletion": true,
        ]])
        let status = try #require(client.actions().last)
        #expect(status.matches("patch", "replicationcontrollers", subresource: "status"))
        #expect(status.object?[path: ["status", "replicas"]] == 1)
    }
}
