import KubeModel
import Testing
@testable import Controllers

@Suite struct RollingUpdateMathTests {
    @Test func percentagesRoundSurgeUpAndUnavailableDown() {
        // 25% of 10 = 2.5: surge 3, unavailable 2.
        #expect(RollingUpdateMath.fenceposts(maxSurge: "25%", maxUnavailable: "25%", desired: 10) == (3, 2))
        // 25% of 3 = 0.75: surge 1, unavailable 0.
        #expect(RollingUpdateMath.fenceposts(maxSurge: "25%", maxUnavailable: "25%", desired: 3) == (1, 0))
        #expect(RollingUpdateMath.fenceposts(maxSurge: 2, maxUnavailable: 1, desired: 5) == (2, 1))
        // Both zero would never move: one may be unavailable.
        #expect(RollingUpdateMath.fenceposts(maxSurge: "0%", maxUnavailable: "10%", desired: 3) == (0, 1))
        #expect(RollingUpdateMath.scaledValue("abc", total: 3, roundUp: true) == nil)
    }

    @Test func newReplicaSetScalesUpWithinSurge() {
        let old = ReplicaSetCounts(name: "old", replicas: 3, current: 3, available: 3)
        var new = ReplicaSetCounts(name: "new", replicas: 0)
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 1, new: new, all: [old, new]) == 1)
        new.replicas = 1
        new.current = 1
        // At the bound: wait for old pods to go.
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 1, new: new, all: [old, new]) == 1)
        // Old spec lowered but its pods are still there: the real pod count still bounds us.
        let shrinking = ReplicaSetCounts(name: "old", replicas: 2, current: 3, available: 3)
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 1, new: new, all: [shrinking, new]) == 1)
        let shrunk = ReplicaSetCounts(name: "old", replicas: 2, current: 2, available: 2)
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 1, new: new, all: [shrunk, new]) == 2)
        // Never above desired; scaled back to it if above.
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 10, new: new, all: [new]) == 3)
        new.replicas = 5
        #expect(RollingUpdateMath.newReplicaSetReplicas(desired: 3, surge: 1, new: new, all: [new]) == 3)
    }

    @Test func oldReplicaSetsScaleDownKeepingMinimumAvailable() {
        let old = ReplicaSetCounts(name: "old", replicas: 3, current: 3, available: 3)
        // New pod not yet available: with maxUnavailable 0 nothing may go.
        let pending = ReplicaSetCounts(name: "new", replicas: 1, current: 1, available: 0)
        #expect(RollingUpdateMath.oldReplicaSetScaleDowns(desired: 3, unavailable: 0, new: pending, old: [old]).isEmpty)
        // Once it is available, one old pod may go.
        let ready = ReplicaSetCounts(name: "new", replicas: 1, current: 1, available: 1)
        #expect(RollingUpdateMath.oldReplicaSetScaleDowns(desired: 3, unavailable: 0, new: ready, old: [old]) == ["old": 2])
        // Unhealthy old pods go first, and for free.
        let sick = ReplicaSetCounts(name: "sick", replicas: 2, current: 2, available: 0)
        let healthy = ReplicaSetCounts(name: "healthy", replicas: 3, current: 3, available: 3)
        let downs = RollingUpdateMath.oldReplicaSetScaleDowns(desired: 3, unavailable: 1, new: pending, old: [sick, healthy])
        #expect(downs["sick"] == 0)
        #expect(downs["healthy"] == 2)
        // Nothing old left: nothing to do.
        #expect(RollingUpdateMath.oldReplicaSetScaleDowns(desired: 3, unavailable: 1, new: ready,
                                                          old: [ReplicaSetCounts(name: "o", replicas: 0)]).isEmpty)
    }

    @Test func templateHashIsStableAndIgnoresItsOwnLabel() {
        let t: JSONValue = ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]
        var labelled = t
        labelled[path: ["metadata", "labels", "pod-template-hash"]] = "x"
        let h = PodTemplateHash.of(t)
        #expect(h == PodTemplateHash.of(labelled))
        #expect(h != PodTemplateHash.of(t, collisionCount: 1))
        var changed = t
        changed[path: ["spec", "containers"]] = [["name": "c", "image": "nginx:2"]]
        #expect(h != PodTemplateHash.of(changed))
        #expect(h.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }
}
