import Foundation
import Testing
@testable import Controllers
import KubeModel

@Suite struct DisruptionBudgetStatusTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func pod(_ name: String, ready: Bool = true, owner: String? = "rs-1", terminating: Bool = false) -> JSONValue {
        var p: JSONValue = ["metadata": ["name": .string(name), "namespace": "ns", "labels": ["app": "web"]],
                            "status": ["phase": "Running", "conditions": [["type": "Ready", "status": ready ? "True" : "False"]]]]
        if let owner {
            p[path: ["metadata", "ownerReferences"]] = [["kind": "ReplicaSet", "name": .string(owner), "uid": .string(owner), "controller": true]]
        }
        if terminating { p[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.format(now)) }
        return p
    }

    func budget(_ spec: JSONValue, disrupted: JSONValue? = nil) -> JSONValue {
        var b: JSONValue = ["metadata": ["name": "web", "namespace": "ns", "generation": 3], "spec": spec]
        b[path: ["spec", "selector"]] = ["matchLabels": ["app": "web"]]
        if let disrupted { b["status"] = ["disruptedPods": disrupted] }
        return b
    }

    @Test func minAvailableCountsReadyPods() throws {
        let pods = [pod("a"), pod("b"), pod("c", ready: false), pod("d", terminating: true)]
        let s = try DisruptionBudgetStatus.compute(budget: budget(["minAvailable": 1]), pods: pods, now: now) { _ in nil }
        #expect(s.expectedPods == 4 && s.desiredHealthy == 1 && s.currentHealthy == 2 && s.disruptionsAllowed == 1)
        let json = s.json(generation: 3, previous: nil, now: now)
        #expect(json["observedGeneration"] == 3)
        #expect(json["conditions"]?.arrayValue?.first?["reason"] == "SufficientPods")
    }

    @Test func percentagesAndMaxUnavailableUseTheControllersScale() throws {
        let pods = [pod("a"), pod("b"), pod("c")]
        // The ReplicaSet wants 4 replicas: 50% of 4 = 2 desired; maxUnavailable 25% of 4 = 1.
        let half = try DisruptionBudgetStatus.compute(budget: budget(["minAvailable": "50%"]), pods: pods, now: now) { _ in 4 }
        #expect(half.expectedPods == 4 && half.desiredHealthy == 2 && half.disruptionsAllowed == 1)
        let quarter = try DisruptionBudgetStatus.compute(budget: budget(["maxUnavailable": "25%"]), pods: pods, now: now) { _ in 4 }
        #expect(quarter.desiredHealthy == 3 && quarter.disruptionsAllowed == 0)
        // Rounding up: 30% of 4 is 1.2, so 2 pods.
        #expect(DisruptionBudgetStatus.scaled("30%", of: 4) == 2)
        #expect(throws: DisruptionBudgetStatus.Failure.noController(pod: "x")) {
            try DisruptionBudgetStatus.compute(budget: budget(["maxUnavailable": 1]), pods: [pod("x", owner: nil)], now: now) { _ in 1 }
        }
    }

    @Test func disruptedPodsStayOutOfTheHealthyCountUntilTheyGoOrTimeOut() throws {
        let recent = Timestamp.format(now.addingTimeInterval(-30))
        let old = Timestamp.format(now.addingTimeInterval(-300))
        let pods = [pod("a"), pod("b"), pod("c"), pod("gone", terminating: true)]
        let b = budget(["minAvailable": 1], disrupted: ["a": .string(recent), "b": .string(old), "gone": .string(recent), "missing": .string(recent)])
        let s = try DisruptionBudgetStatus.compute(budget: b, pods: pods, now: now) { _ in nil }
        #expect(s.disruptedPods == ["a": recent])
        #expect(s.currentHealthy == 2 && s.disruptionsAllowed == 1)
        #expect(s.recheckAt == now.addingTimeInterval(90))
    }

    @Test func selectorsFollowPolicyV1() {
        let pods = [pod("a"), ["metadata": ["name": "other", "labels": ["app": "db"]]]]
        var everything = budget(["minAvailable": 1])
        everything[path: ["spec", "selector"]] = [:]
        #expect(DisruptionBudgetStatus.selectedPods(everything, pods: pods).count == 2)
        var none = budget(["minAvailable": 1])
        none[path: ["spec", "selector"]] = nil
        #expect(DisruptionBudgetStatus.selectedPods(none, pods: pods).isEmpty)
        #expect(DisruptionBudgetStatus.selectedPods(budget(["minAvailable": 1]), pods: pods).map(\.name) == ["a"])
    }

    @Test func taintsWithoutTimeAddedCountFromWhenFirstSeen() {
        let clock = NoExecuteTaintClock()
        let taint: JSONValue = ["key": "maintenance", "value": "yes", "effect": "NoExecute"]
        let first = clock.stamp(node: "n", taints: [taint, ["key": "x", "effect": "NoSchedule"]], now: now)
        #expect(first[0]["timeAdded"] == .string(Timestamp.format(now)))
        #expect(first[1]["timeAdded"] == nil)
        let later = clock.stamp(node: "n", taints: [taint], now: now.addingTimeInterval(60))
        #expect(later[0]["timeAdded"] == .string(Timestamp.format(now)))
        // Removed and added again: the count starts over.
        _ = clock.stamp(node: "n", taints: [], now: now.addingTimeInterval(61))
        let again = clock.stamp(node: "n", taints: [taint], now: now.addingTimeInterval(62))
        #expect(again[0]["timeAdded"] == .string(Timestamp.format(now.addingTimeInterval(62))))
    }
}
