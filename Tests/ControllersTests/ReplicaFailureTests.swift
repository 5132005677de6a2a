import Foundation
import KubeModel
import Testing
@testable import Controllers

/// The ReplicaSet's ReplicaFailure condition as a pure function of the previous conditions and
/// what managing replicas did.
@Suite struct ReplicaFailureTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func failedCreateSetsConditionWithError() throws {
        let out = ReplicaSetController.replicaFailure([], outcome: .failed(reason: "FailedCreate", message: "pods is forbidden"), now: t0)
        let c = try #require(out.first)
        #expect(out.count == 1)
        #expect(c["type"]?.stringValue == "ReplicaFailure")
        #expect(c["status"]?.stringValue == "True")
        #expect(c["reason"]?.stringValue == "FailedCreate")
        #expect(c["message"]?.stringValue == "pods is forbidden")
        #expect(c["lastTransitionTime"]?.stringValue == Timestamp.format(t0))
    }

    @Test func unchangedFailureKeepsConditionsIdentical() {
        let first = ReplicaSetController.replicaFailure([], outcome: .failed(reason: "FailedCreate", message: "quota"), now: t0)
        let again = ReplicaSetController.replicaFailure(first, outcome: .failed(reason: "FailedCreate", message: "quota"),
                                                        now: t0.addingTimeInterval(60))
        #expect(again == first)
        let changed = ReplicaSetController.replicaFailure(first, outcome: .failed(reason: "FailedCreate", message: "other"),
                                                          now: t0.addingTimeInterval(60))
        #expect(changed.first?["message"]?.stringValue == "other")
        #expect(changed.first?["lastTransitionTime"] == first.first?["lastTransitionTime"])
    }

    @Test func successClearsOnlyReplicaFailure() {
        let other: JSONValue = ["type": "Custom", "status": "True"]
        let failing = ReplicaSetController.replicaFailure([other], outcome: .failed(reason: "FailedCreate", message: "x"), now: t0)
        #expect(failing.count == 2)
        #expect(ReplicaSetController.replicaFailure(failing, outcome: .succeeded, now: t0) == [other])
        #expect(ReplicaSetController.replicaFailure([], outcome: .succeeded, now: t0).isEmpty)
    }
}
