import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The StatefulSet reconciler against the recording fake client: ordinal identities, ordered
/// creation and deletion, partitioned rollouts and claims from volume claim templates.
@Suite struct StatefulSetReconcilerTests {
    let client = RecordingClient()
    let sets = ObjectCache()
    let pods = ObjectCache()
    let revisions = ObjectCache()

    @discardableResult
    func statefulSet(replicas: Int, policy: String = "OrderedReady", partition: Int = 0, claims: Bool = false,
                     retention: JSONValue = ["whenDeleted": "Retain", "whenScaled": "Retain"]) -> JSONValue {
        var spec: JSONValue = [
            "replicas": .int(Int64(replicas)), "serviceName": "db", "podManagementPolicy": .string(policy),
            "selector": ["matchLabels": ["app": "db"]], "revisionHistoryLimit": 10,
            "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["partition": .int(Int64(partition))]],
            "persistentVolumeClaimRetentionPolicy": retention,
            "template": ["metadata": ["labels": ["app": "db"]], "spec": ["containers": [["name": "db", "image": "db:2"]]]],
        ]
        if claims {
            spec["volumeClaimTemplates"] = [["metadata": ["name": "data"],
                                             "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]]]]
        }
        return client.seed(["apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": ["name": "db", "namespace": "default", "generation": 1],
                            "spec": spec], as: StatefulSetController.resource, into: sets)
    }

    @discardableResult
    func pod(_ ordinal: Int, of set: JSONValue, revision: String, ready: Bool = true) -> JSONValue {
        client.seed([
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string("db-\(ordinal)"), "namespace": "default",
                         "labels": ["app": "db", "controller-revision-hash": .string(revision)],
                         "ownerReferences": [ObjectRules.ownerReference(to: set, apiVersion: "apps/v1", kind: "StatefulSet")]],
            "spec": ["nodeName": "node-1", "containers": [["name": "db", "image": "db:1"]]],
            "status": ["phase": "Running", "conditions": [["type": "Ready", "status": ready ? "True" : "False",
                                                           "lastTransitionTime": "2026-01-01T00:00:00Z"]]],
        ], as: StatefulSetController.podResource, into: pods)
    }

    func controller() -> StatefulSetController {
        StatefulSetController(client: client, statefulSets: sets, pods: pods, revisions: revisions)
    }

    func updateRevision(_ set: JSONValue) -> String {
        ControllerHistory.name(owner: "db", hash: ControllerHistory.hash(of: ControllerHistory.data(of: set), collisionCount: 0))
    }

    func createdPods() -> [JSONValue] { client.actions().filter { $0.matches("create", "pods") }.compactMap(\.object) }
    func deletedPods() -> [String] { client.actions().filter { $0.matches("delete", "pods") }.compactMap(\.name) }

    @Test func orderedReadyCreatesOnePodAtATimeWithItsIdentity() async throws {
        let set = statefulSet(replicas: 3)
        _ = try await controller().reconcile(key: "default/db")
        let created = createdPods()
        #expect(created.map(\.name) == ["db-0"])
        let first = try #require(created.first)
        #expect(first.labels["statefulset.kubernetes.io/pod-name"] == "db-0")
        #expect(first.labels["apps.kubernetes.io/pod-index"] == "0")
        #expect(first.labels["controller-revision-hash"] == updateRevision(set))
        #expect(first[path: ["spec", "hostname"]] == "db-0" && first[path: ["spec", "subdomain"]] == "db")

        // db-0 exists but is not ready: nothing more happens.
        client.clearActions()
        pod(0, of: set, revision: updateRevision(set), ready: false)
        _ = try await controller().reconcile(key: "default/db")
        #expect(createdPods().isEmpty)

        client.clearActions()
        pod(0, of: set, revision: updateRevision(set))
        _ = try await controller().reconcile(key: "default/db")
        #expect(createdPods().map(\.name) == ["db-1"])
    }

    @Test func parallelCreatesEveryMissingOrdinal() async throws {
        statefulSet(replicas: 3, policy: "Parallel")
        _ = try await controller().reconcile(key: "default/db")
        #expect(createdPods().map(\.name) == ["db-0", "db-1", "db-2"])
    }

    @Test func scaleDownDeletesTheHighestOrdinalFirst() async throws {
        let set = statefulSet(replicas: 1)
        for i in 0..<3 { pod(i, of: set, revision: updateRevision(set)) }
        _ = try await controller().reconcile(key: "default/db")
        #expect(deletedPods() == ["db-2"])
    }

    @Test func partitionedRolloutOnlyTouchesOrdinalsAtOrAboveThePartition() async throws {
        let set = statefulSet(replicas: 3, partition: 1)
        for i in 0..<3 { pod(i, of: set, revision: "db-old") }
        _ = try await controller().reconcile(key: "default/db")
        #expect(deletedPods() == ["db-2"])

        // db-2 came back at the update revision; next is db-1, and db-0 never.
        client.clearActions()
        pod(2, of: set, revision: updateRevision(set))
        _ = try await controller().reconcile(key: "default/db")
        #expect(deletedPods() == ["db-1"])

        client.clearActions()
        pod(1, of: set, revision: updateRevision(set))
        _ = try await controller().reconcile(key: "default/db")
        #expect(deletedPods().isEmpty)
        let status = try #require(client.actions().last { $0.matches("patch", "statefulsets", subresource: "status") })
        #expect(status.object?[path: ["status", "updatedReplicas"]] == 2)
        #expect(status.object?[path: ["status", "updateRevision"]] == .string(updateRevision(set)))
    }

    @Test func aMissingLowOrdinalComesBackFromTheCurrentRevision() {
        let set = statefulSet(replicas: 3, partition: 2)
        let plan = StatefulSetPlan(set: set, pods: [], currentRevision: "db-old", updateRevision: "db-new", now: Date())
        #expect(plan.steps() == [.create(ordinal: 0, fromUpdateRevision: false)])
        #expect(plan.usesUpdateRevision(2))
    }

    @Test func claimsAreCreatedBeforeThePodAndMountedAsTheTemplateVolume() async throws {
        statefulSet(replicas: 1, claims: true, retention: ["whenDeleted": "Delete", "whenScaled": "Retain"])
        _ = try await controller().reconcile(key: "default/db")
        let writes = client.actions().filter { $0.verb == "create" }
        #expect(writes.map(\.resource.plural).prefix(2) == ["controllerrevisions", "persistentvolumeclaims"])
        let claim = try #require(writes.first { $0.resource.plural == "persistentvolumeclaims" }?.object)
        #expect(claim.name == "data-db-0")
        #expect(claim.labels == ["app": "db"])
        #expect(claim[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "StatefulSet")
        let pod = try #require(createdPods().first)
        #expect(pod[path: ["spec", "volumes"]] == [["name": "data", "persistentVolumeClaim": ["claimName": "data-db-0"]]])
    }

    @Test func scaledDownClaimsGoWithTheirPodWhenAsked() async throws {
        let set = statefulSet(replicas: 1, claims: true, retention: ["whenDeleted": "Delete", "whenScaled": "Delete"])
        for i in 0..<2 {
            pod(i, of: set, revision: updateRevision(set))
            client.tracker.add(["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                "metadata": ["name": .string("data-db-\(i)"), "namespace": "default",
                                             "ownerReferences": [StatefulPodIdentity.ownerReference(to: set, kind: "StatefulSet", apiVersion: "apps/v1")]]],
                               to: StatefulSetController.claimResource)
        }
        _ = try await controller().reconcile(key: "default/db")
        let patch = try #require(client.actions().first { $0.matches("patch", "persistentvolumeclaims") })
        #expect(patch.name == "data-db-1")
        // The pod takes the claim over from the set, so the claim goes with the pod.
        #expect(patch.object?[path: ["metadata", "ownerReferences"]]?.arrayValue?.map { $0["kind"] } == ["Pod"])
        #expect(deletedPods() == ["db-1"])
    }

    @Test func maxUnavailableReplacesSeveralAtOnceAndOnDeleteNone() {
        var set = statefulSet(replicas: 4)
        set[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]] = 2
        let pods = (0..<4).map { pod($0, of: set, revision: "db-old") }
        let plan = StatefulSetPlan(set: set, pods: pods, currentRevision: "db-old", updateRevision: "db-new", now: Date())
        #expect(plan.steps().compactMap { if case .delete(let p) = $0 { return p.name } else { return nil } } == ["db-3", "db-2"])

        set[path: ["spec", "updateStrategy"]] = ["type": "OnDelete"]
        let onDelete = StatefulSetPlan(set: set, pods: pods, currentRevision: "db-old", updateRevision: "db-new", now: Date())
        #expect(onDelete.steps().isEmpty)
        // A pod the user deleted comes back from the update revision.
        let missing = StatefulSetPlan(set: set, pods: Array(pods.dropLast()), currentRevision: "db-old", updateRevision: "db-new", now: Date())
        #expect(missing.steps() == [.create(ordinal: 3, fromUpdateRevision: true)])
    }

    @Test func minReadySecondsHoldsTheNextOrdinal() {
        var set = statefulSet(replicas: 2)
        set[path: ["spec", "minReadySeconds"]] = 30
        let ready = pod(0, of: set, revision: "db-new")
        let readySince = Timestamp.parse("2026-01-01T00:00:00Z") ?? Date()
        let early = StatefulSetPlan(set: set, pods: [ready], currentRevision: "db-new", updateRevision: "db-new", now: readySince.addingTimeInterval(10))
        #expect(early.steps().isEmpty)
        let later = StatefulSetPlan(set: set, pods: [ready], currentRevision: "db-new", updateRevision: "db-new", now: readySince.addingTimeInterval(31))
        #expect(later.steps() == [.create(ordinal: 1, fromUpdateRevision: true)])
    }

    @Test func hugeNumbersAreClampedAndOneRoundIsBounded() {
        var set = statefulSet(replicas: 1, policy: "Parallel")
        set[path: ["spec", "replicas"]] = .int(Int64.max)
        set[path: ["spec", "ordinals", "start"]] = .int(Int64.max)
        set[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]] = .int(Int64.max)
        let plan = StatefulSetPlan(set: set, pods: [], currentRevision: "a", updateRevision: "b", now: Date())
        #expect(plan.steps().count == StatefulSetPlan.burst)
    }
}

extension StatefulSetReconcilerTests {
    @Test func claimOwnershipFollowsAChangedWhenDeletedPolicy() async throws {
        let claims = ObjectCache()
        let set = statefulSet(replicas: 1, claims: true, retention: ["whenDeleted": "Delete", "whenScaled": "Retain"])
        pod(0, of: set, revision: updateRevision(set))
        client.seed(["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": ["name": "data-db-0", "namespace": "default"]],
                    as: StatefulSetController.claimResource, into: claims)
        let controller = StatefulSetController(client: client, statefulSets: sets, pods: pods, revisions: revisions, claims: claims)
        _ = try await controller.reconcile(key: "default/db")
        let patch = try #require(client.actions().first { $0.matches("patch", "persistentvolumeclaims") })
        #expect(patch.object?[path: ["metadata", "ownerReferences"]]?.arrayValue?.map { $0["kind"] } == ["StatefulSet"])
        #expect(client.actions().filter { $0.matches("create", "persistentvolumeclaims") }.isEmpty)
    }
}
