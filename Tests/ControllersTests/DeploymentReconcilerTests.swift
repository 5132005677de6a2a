import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The Deployment reconciler against the recording fake client: the exact requests one
/// reconcile sends. The rollouts themselves run end to end in DeploymentEndToEndTests.
@Suite struct DeploymentReconcilerTests {
    let client = RecordingClient()
    let deployments = ObjectCache()
    let replicaSets = ObjectCache()

    @discardableResult
    func deployment(replicas: Int, image: String = "nginx:1") -> JSONValue {
        var d = LeaderElectionEndToEndTests.deployment(replicas: replicas)
        d[path: ["metadata", "namespace"]] = "default"
        d[path: ["spec", "template", "spec"]] = ["containers": [["name": "web", "image": .string(image)]]]
        return client.seed(d, as: DeploymentController.resource, into: deployments)
    }

    /// A ReplicaSet of `d` at `revision` with the given image, all replicas ready.
    @discardableResult
    func replicaSet(of d: JSONValue, image: String, replicas: Int, revision: Int) -> JSONValue {
        var template = d[path: ["spec", "template"]] ?? .null
        template[path: ["spec", "containers"]] = [["name": "web", "image": .string(image)]]
        let hash = PodTemplateHash.of(template)
        var rs = DeploymentController.replicaSet(for: d.replacing(template: template), hash: hash, replicas: replicas,
                                                 revision: revision, maxReplicas: replicas)
        rs["status"] = ["replicas": .int(Int64(replicas)), "readyReplicas": .int(Int64(replicas)),
                        "availableReplicas": .int(Int64(replicas)), "observedGeneration": 1]
        return client.seed(rs, as: ReplicaSetController.resource, into: replicaSets)
    }

    func reconcile() async throws {
        _ = try await DeploymentController(client: client, deployments: deployments, replicaSets: replicaSets)
            .reconcile(key: "default/web")
    }

    @Test func aNewDeploymentCreatesItsFirstReplicaSet() async throws {
        let d = deployment(replicas: 3)
        try await reconcile()

        let actions = client.actions()
        #expect(actions.count == 1, "\(actions)")
        let create = try #require(actions.first)
        #expect(create.matches("create", "replicasets") && create.namespace == "default")
        let hash = PodTemplateHash.of(d[path: ["spec", "template"]] ?? .null)
        let rs = try #require(create.object)
        #expect(rs.name == "web-\(hash)")
        #expect(rs[path: ["spec", "replicas"]] == 3)
        #expect(rs[path: ["spec", "selector", "matchLabels"]] == ["app": "web", "pod-template-hash": .string(hash)])
        #expect(rs.annotations[DeploymentController.revisionAnnotation] == "1")
        #expect(rs[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == .string(d.uid ?? ""))
        #expect(client.actions(on: "events").first?.object?["message"] == .string("Scaled up replica set web-\(hash) from 0 to 3"))
    }

    @Test func aNewTemplateStartsARolloutWithinTheSurge() async throws {
        let d = deployment(replicas: 3, image: "nginx:2")
        replicaSet(of: d, image: "nginx:1", replicas: 3, revision: 1)
        try await reconcile()

        let creates = client.actions().filter { $0.matches("create", "replicasets") }
        #expect(creates.count == 1)
        // maxSurge 1, maxUnavailable 0: one new pod may be added above the three old ones.
        #expect(creates.first?.object?[path: ["spec", "replicas"]] == 1)
        #expect(creates.first?.object?.annotations[DeploymentController.revisionAnnotation] == "2")
        #expect(!client.actions().contains { $0.matches("patch", "replicasets") }, "old pods stay until new ones are available")
    }

    @Test func aNameTakenBySomeoneElseBumpsTheCollisionCount() async throws {
        let d = deployment(replicas: 1)
        let hash = PodTemplateHash.of(d[path: ["spec", "template"]] ?? .null)
        // Same name, not ours, not in the Deployment's cache view.
        client.tracker.add(["apiVersion": "apps/v1", "kind": "ReplicaSet",
                            "metadata": ["name": .string("web-\(hash)"), "namespace": "default"]], to: ReplicaSetController.resource)
        try await reconcile()

        let actions = client.actions()
        #expect(actions.map(\.verb) == ["create", "get", "patch"], "\(actions)")
        #expect(actions.last?.matches("patch", "deployments", subresource: "status") == true)
        #expect(actions.last?.object?[path: ["status", "collisionCount"]] == 1)
    }

    @Test func aFailedCreateSurfacesTheError() async throws {
        deployment(replicas: 2)
        client.fail("create", "replicasets", with: KubeAPIError(code: 500, reason: "InternalError", message: "etcd is down"))
        await #expect(throws: KubeAPIError.self) { try await reconcile() }
        #expect(client.actions().map(\.verb) == ["create"])
    }
}

private extension JSONValue {
    func replacing(template: JSONValue) -> JSONValue {
        var copy = self
        copy[path: ["spec", "template"]] = template
        return copy
    }
}
