import Foundation
import KubeModel

/// A Job's conditions: Suspended, SuccessCriteriaMet, FailureTarget, Complete, Failed.
enum JobConditions {
    static func find(_ conditions: [JSONValue], _ type: String) -> JSONValue? {
        conditions.first { $0["type"]?.stringValue == type }
    }

    static func holds(_ conditions: [JSONValue], _ type: String) -> Bool {
        find(conditions, type)?["status"]?.stringValue == "True"
    }

    /// The condition of `type` when it is True.
    static func holding(_ conditions: [JSONValue], _ type: String) -> JSONValue? {
        holds(conditions, type) ? find(conditions, type) : nil
    }

    /// Whether the Job is finished (Complete or Failed).
    static func isFinished(_ job: JSONValue) -> Bool {
        let conditions = job[path: ["status", "conditions"]]?.arrayValue ?? []
        return holds(conditions, "Complete") || holds(conditions, "Failed")
    }

    /// When the Job finished, from its Complete or Failed condition.
    static func finishTime(_ job: JSONValue) -> Date? {
        let conditions = job[path: ["status", "conditions"]]?.arrayValue ?? []
        return ["Complete", "Failed"].lazy.compactMap { type -> Date? in
            guard holds(conditions, type) else { return nil }
            return find(conditions, type)?["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse)
        }.first
    }

    /// Sets a condition; the probe and transition times change only when its status does.
    static func set(_ conditions: inout [JSONValue], type: String, status: Bool, reason: String, message: String, now: Date) {
        let value = status ? "True" : "False"
        let stamp = JSONValue.string(Timestamp.format(now))
        if let i = conditions.firstIndex(where: { $0["type"]?.stringValue == type }) {
            guard conditions[i]["status"]?.stringValue != value || conditions[i]["reason"]?.stringValue != reason else { return }
            let changed = conditions[i]["status"]?.stringValue != value
            conditions[i]["status"] = .string(value)
            conditions[i]["reason"] = .string(reason)
            conditions[i]["message"] = .string(message)
            conditions[i]["lastProbeTime"] = stamp
            if changed { conditions[i]["lastTransitionTime"] = stamp }
            return
        }
        conditions.append(["type": .string(type), "status": .string(value), "lastProbeTime": stamp,
                           "lastTransitionTime": stamp, "reason": .string(reason), "message": .string(message)])
    }
}
