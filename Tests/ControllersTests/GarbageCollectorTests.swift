import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle
import Testing
@testable import Controllers

/// The garbage collector end to end: the real API server in-process, the ControllerManager
/// against it over HTTP, and deletions with each propagation policy.
@Suite(.serialized) struct GarbageCollectorTests {
    static let deployments = DeploymentEndToEndTests.deployments
    static let replicaSets = DeploymentEndToEndTests.replicaSets
    static let pods = DeploymentEndToEndTests.pods

    @Test(.timeLimit(.minutes(5))) func backgroundDeletionOfDeploymentRemovesReplicaSetAndPods() async throws {
        try await withCluster { client in
            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": ["name": "bg"],
                "spec": ["replicas": 3, "selector": ["matchLabels": ["app": "bg"]], "template": Self.template("bg")],
            ]
            _ = try await client.create(Self.deployments.path, deployment)
            let created = try await eventually(timeout: .seconds(20)) {
                let rss = try await items(client, Self.replicaSets, app: "bg")
                let pods = try await items(client, Self.pods, app: "bg")
                return rss.count == 1 && pods.count == 3
            }
            try #require(created)

            try await client.delete(Self.deployments.named("bg").path, options: Self.deleteOptions("Background"))
            let collected = try await eventually(timeout: .seconds(20)) {
                let rss = try await items(client, Self.replicaSets, app: "bg")
                let pods = try await items(client, Self.pods, app: "bg")
                return rss.isEmpty && pods.isEmpty
            }
            #expect(collected)
        }
    }

    @Test(.timeLimit(.minutes(5))) func foregroundDeletionWaitsForPods() async throws {
        try await withCluster { client in
            let rs = try await createReplicaSet(client, name: "fg", replicas: 2)
            let running = try await eventually(timeout: .seconds(20)) { try await items(client, Self.pods, app: "fg").count == 2 }
            try #require(running)

            let answer = try await client.delete(Self.replicaSets.named("fg").path, options: Self.deleteOptions("Foreground"))
            #expect(answer[path: ["metadata", "deletionTimestamp"]] != nil)
            #expect(answer.finalizers.contains("foregroundDeletion"))

            var goneBeforePods = false
            let collected = try await eventually(timeout: .seconds(20)) {
                // Pods first: read the RS, then the pods, so an RS seen gone implies pods gone.
                let current: JSONValue?
                do { current = try await client.get(Self.replicaSets.named("fg").path) } catch let e as KubeAPIError where e.isNotFound {
                    current = nil
                }
                let pods = try await items(client, Self.pods, app: "fg")
                if current == nil, !pods.isEmpty { goneBeforePods = true }
                if let current { #expect(current.uid == rs.uid && current[path: ["metadata", "deletionTimestamp"]] != nil) }
                return current == nil && pods.isEmpty
            }
            #expect(collected)
            #expect(!goneBeforePods, "the ReplicaSet went before its pods")
        }
    }

    @Test(.timeLimit(.minutes(5))) func foregroundOwnerStaysWhilePodsAreTerminating() async throws {
        try await withCluster { client in
            // The pods' own finalizer keeps them terminating until the test lets them go.
            var rs = Self.replicaSet(name: "held", replicas: 2)
            rs[path: ["spec", "template", "metadata", "finalizers"]] = ["example.com/hold"]
            _ = try await client.create(Self.replicaSets.path, rs)
            let running = try await eventually(timeout: .seconds(20)) { try await items(client, Self.pods, app: "held").count == 2 }
            try #require(running)

            try await client.delete(Self.replicaSets.named("held").path, options: Self.deleteOptions("Foreground"))
            let podsTerminating = try await eventually(timeout: .seconds(20)) {
                let pods = try await items(client, Self.pods, app: "held")
                return pods.count == 2 && pods.allSatisfy(ObjectRules.isTerminating)
            }
            try #require(podsTerminating)
            let held = try await client.get(Self.replicaSets.named("held").path)
            #expect(ObjectRules.isTerminating(held) && held.finalizers == ["foregroundDeletion"])

            for pod in try await items(client, Self.pods, app: "held") {
                _ = try await client.patch(Self.pods.named(pod.name ?? "").path, ["metadata": ["finalizers": .null]], type: .merge)
            }
            let collected = try await eventually(timeout: .seconds(20)) {
                let pods = try await items(client, Self.pods, app: "held")
                let rss = try await items(client, Self.replicaSets, app: "held")
                return pods.isEmpty && rss.isEmpty
            }
            #expect(collected)
        }
    }

    @Test(.timeLimit(.minutes(5))) func orphanDeletionKeepsPods() async throws {
        try await withCluster { client in
            let rs = try await createReplicaSet(client, name: "orphan", replicas: 2)
            let running = try await eventually(timeout: .seconds(20)) { try await items(client, Self.pods, app: "orphan").count == 2 }
            try #require(running)

            try await client.delete(Self.replicaSets.named("orphan").path, options: Self.deleteOptions("Orphan"))
            let orphaned = try await eventually(timeout: .seconds(20)) {
                do { _ = try await client.get(Self.replicaSets.named("orphan").path); return false } catch let e as KubeAPIError where e.isNotFound {}
                let pods = try await items(client, Self.pods, app: "orphan")
                return pods.count == 2 && pods.allSatisfy { pod in
                    !(pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == rs.uid }
                }
            }
            #expect(orphaned)
            // Orphans are not collected later either: a pod event after the RS went is processed.
            let first = try #require(try await items(client, Self.pods, app: "orphan").first?.name)
            _ = try await client.patch(Self.pods.named(first).path, ["metadata": ["annotations": ["touched": "yes"]]], type: .merge)
            let stillThere = try await eventually(timeout: .seconds(5)) {
                let pods = try await items(client, Self.pods, app: "orphan")
                return pods.count == 2 && pods.contains { $0.annotations["touched"] == "yes" }
            }
            #expect(stillThere)
        }
    }

    @Test(.timeLimit(.minutes(5))) func danglingOwnerReferences() async throws {
        try await withCluster { client in
            // Only owner gone: collected.
            _ = try await client.create(Self.pods.path, Self.pod("ghost", owners: [Self.ownerRef("ReplicaSet", "ghost", uid: UUID().uuidString)]))
            // One live owner left (a ReplicaSet whose selector does not match): only the dangling
            // reference goes.
            let live = try await createReplicaSet(client, name: "keeper", replicas: 0, selector: "nothing")
            let liveRef = Self.ownerRef("ReplicaSet", "keeper", uid: live.uid ?? "")
            // Same name, other uid: counts as gone.
            let staleRef = Self.ownerRef("ReplicaSet", "keeper", uid: UUID().uuidString)
            _ = try await client.create(Self.pods.path, Self.pod("kept", owners: [liveRef, staleRef]))

            let done = try await eventually(timeout: .seconds(20)) {
                let ghost = try await items(client, Self.pods, app: "ghost")
                let kept = try await items(client, Self.pods, app: "kept")
                return ghost.isEmpty && kept.count == 1
                    && kept[0][path: ["metadata", "ownerReferences"]]?.arrayValue?.map { $0["uid"] } == [liveRef["uid"]]
            }
            #expect(done)
        }
    }

    // MARK: - helpers

    /// Runs `body` against a fresh API server and ControllerManager.
    func withCluster(_ body: (KubeRESTClient) async throws -> Void) async throws {
        try await withControlPlane(body)
    }

    func items(_ client: KubeRESTClient, _ resource: ResourcePath, app: String) async throws -> [JSONValue] {
        try await client.list(resource.path, query: ["labelSelector": "app=" + app])["items"]?.arrayValue ?? []
    }

    @discardableResult
    func createReplicaSet(_ client: KubeRESTClient, name: String, replicas: Int, selector: String? = nil) async throws -> JSONValue {
        try await client.create(Self.replicaSets.path, Self.replicaSet(name: name, replicas: replicas, selector: selector))
    }

    /// A standalone ReplicaSet labelled and selecting `app: selector ?? name`.
    static func replicaSet(name: String, replicas: Int, selector: String? = nil) -> JSONValue {
        let app = JSONValue.string(selector ?? name)
        return [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string(name), "labels": ["app": app]],
            "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": app]],
                     "template": template(selector ?? name)],
        ]
    }

    static func template(_ app: String) -> JSONValue {
        ["metadata": ["labels": ["app": .string(app)]], "spec": ["containers": [["name": "c", "image": "nginx:1"]]]]
    }

    static func pod(_ name: String, owners: [JSONValue]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod",
         "metadata": ["name": .string(name), "labels": ["app": .string(name)], "ownerReferences": .array(owners)],
         "spec": ["containers": [["name": "c", "image": "nginx:1"]]]]
    }

    static func ownerRef(_ kind: String, _ name: String, uid: String) -> JSONValue {
        ["apiVersion": "apps/v1", "kind": .string(kind), "name": .string(name), "uid": .string(uid)]
    }

    static func deleteOptions(_ policy: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": .string(policy)]
    }
}
