import Foundation
import KubeModel

/// The conditions of an autoscaler's status (AbleToScale, ScalingActive, ScalingLimited), set
/// as Kubernetes sets them: a condition keeps its lastTransitionTime while its status stays.
struct AutoscalerConditions: Sendable, Equatable {
    static let ableToScale = "AbleToScale"
    static let scalingActive = "ScalingActive"
    static let scalingLimited = "ScalingLimited"

    private(set) var items: [JSONValue]

    init(_ json: JSONValue?) { items = json?.arrayValue ?? [] }

    /// Sets condition `type`; the transition time moves only when the status changes.
    mutating func set(_ type: String, _ status: Bool, reason: String, message: String, now: Date) {
        let statusText: JSONValue = status ? "True" : "False"
        let stamp = JSONValue.string(Timestamp.format(now))
        if let i = items.firstIndex(where: { $0["type"]?.stringValue == type }) {
            var c = items[i]
            if c["status"] != statusText { c["lastTransitionTime"] = stamp }
            c["status"] = statusText
            c["reason"] = .string(reason)
            c["message"] = .string(message)
            items[i] = c
        } else {
            items.append(["type": .string(type), "status": statusText, "lastTransitionTime": stamp,
                          "reason": .string(reason), "message": .string(message)])
        }
    }

    /// Sets a condition from a normalizer's note.
    mutating func set(_ type: String, _ status: Bool, _ note: ReplicaNormalizer.Note, now: Date) {
        set(type, status, reason: note.reason, message: note.message, now: now)
    }

    var json: JSONValue { .array(items) }
}
