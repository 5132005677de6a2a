import Foundation
import KubeModel

extension DeploymentController {
    static let progressDeadlineExceeded = "ProgressDeadlineExceeded"

    /// `spec.progressDeadlineSeconds` (the API server defaults it to 600); `nil` when it is
    /// the "never" value, MaxInt32, as Kubernetes treats it.
    static func progressDeadline(_ d: JSONValue) -> Int? {
        let seconds = ObjectRules.int(d[path: ["spec", "progressDeadlineSeconds"]], default: 600)
        return seconds == Int(Int32.max) ? nil : seconds
    }

    /// Whether the rollout moved since the last status (Kubernetes' `DeploymentProgressing`):
    /// more updated, ready or available pods, or fewer old ones.
    static func countsProgressed(old: JSONValue?, new: JSONValue) -> Bool {
        func n(_ s: JSONValue?, _ key: String) -> Int { ObjectRules.int(s?[key]) }
        return n(new, "updatedReplicas") > n(old, "updatedReplicas")
            || n(new, "readyReplicas") > n(old, "readyReplicas")
            || n(new, "availableReplicas") > n(old, "availableReplicas")
            || n(new, "replicas") - n(new, "updatedReplicas") < n(old, "replicas") - n(old, "updatedReplicas")
    }

    /// Sets the Progressing condition of an unpaused Deployment (Kubernetes'
    /// `syncRolloutStatus`): complete -> NewReplicaSetAvailable; progress (a new ReplicaSet, a
    /// scaling step, growing counts) -> ReplicaSetUpdated with a fresh lastUpdateTime, keeping
    /// lastTransitionTime while it stays True; no progress for `progressDeadlineSeconds`
    /// since lastUpdateTime -> False, ProgressDeadlineExceeded.
    static func setProgressing(_ conditions: inout [JSONValue], d: JSONValue, status: JSONValue, newRS: JSONValue,
                               progressed: Bool, now: Date) {
        let name = newRS.name ?? ""
        let index = conditions.firstIndex { $0["type"]?.stringValue == "Progressing" }
        let current = index.map { conditions[$0] }
        let reason = current?["reason"]?.stringValue
        if isComplete(d, status: status) {
            setCondition(&conditions, type: "Progressing", status: "True", reason: "NewReplicaSetAvailable",
                         message: "ReplicaSet \"\(name)\" has successfully progressed.", now: now)
            return
        }
        // A condition about another ReplicaSet means ours is new; one left by a pause means resumed.
        let aboutOtherRS = !(current?["message"]?.stringValue?.contains("\"\(name)\"") ?? false)
        if progressed || current == nil || aboutOtherRS || reason == "DeploymentPaused"
            || countsProgressed(old: d["status"], new: status) {
            let stamp = JSONValue.string(Timestamp.format(now))
            var c: JSONValue = ["type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                                "message": .string("ReplicaSet \"\(name)\" is progressing."),
                                "lastUpdateTime": stamp, "lastTransitionTime": stamp]
            if current?["status"]?.stringValue == "True", let t = current?["lastTransitionTime"] { c["lastTransitionTime"] = t }
            if let index { conditions[index] = c } else { conditions.append(c) }
            return
        }
        if let current, timedOut(d, current, now: now) {
            setCondition(&conditions, type: "Progressing", status: "False", reason: progressDeadlineExceeded,
                         message: "ReplicaSet \"\(name)\" has timed out progressing.", now: now)
        }
    }

    /// Kubernetes' `DeploymentTimedOut` on the current Progressing condition.
    static func timedOut(_ d: JSONValue, _ condition: JSONValue, now: Date) -> Bool {
        guard let deadline = progressDeadline(d) else { return false }
        switch condition["reason"]?.stringValue {
        case "NewReplicaSetAvailable": return false
        case progressDeadlineExceeded: return true
        default: break
        }
        guard let from = condition["lastUpdateTime"]?.stringValue.flatMap(Timestamp.parse) else { return false }
        return from.addingTimeInterval(TimeInterval(deadline)) < now
    }

    /// When to look again so a stalled rollout is marked once its deadline passes, even if
    /// no event arrives (Kubernetes' `requeueStuckDeployment`).
    static func progressRecheck(_ d: JSONValue, status: JSONValue, now: Date) -> ReconcileResult {
        guard let deadline = progressDeadline(d),
              let c = status["conditions"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "Progressing" }),
              c["status"]?.stringValue == "True", c["reason"]?.stringValue == "ReplicaSetUpdated",
              let from = c["lastUpdateTime"]?.stringValue.flatMap(Timestamp.parse) else { return .done }
        let after = from.addingTimeInterval(TimeInterval(deadline)).timeIntervalSince(now)
        // A second past the deadline: lastUpdateTime has whole seconds only.
        return .requeue(after: .milliseconds(Int64((max(0, after) + 1) * 1000)))
    }
}
