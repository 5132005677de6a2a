import Foundation
import KubeModel

/// Small facts about objects that several controllers need, read the way Kubernetes reads them.
enum ObjectRules {
    /// The ownerReference with `controller: true`, if any.
    static func controllerRef(of object: JSONValue) -> JSONValue? {
        (object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).first { $0["controller"]?.boolValue == true }
    }

    /// An ownerReference making `owner` the controller of its dependent.
    static func ownerReference(to owner: JSONValue, apiVersion: String, kind: String) -> JSONValue {
        [
            "apiVersion": .string(apiVersion), "kind": .string(kind),
            "name": .string(owner.name ?? ""), "uid": .string(owner.uid ?? ""),
            "controller": true, "blockOwnerDeletion": true,
        ]
    }

    static func isTerminating(_ object: JSONValue) -> Bool {
        object[path: ["metadata", "deletionTimestamp"]].map { !$0.isNull } ?? false
    }

    static func int(_ v: JSONValue?, default d: Int = 0) -> Int { v?.intValue.map { Int($0) } ?? d }

    // MARK: - pods

    /// Counted by controllers: not being deleted and not finished (client-go `IsPodActive`).
    static func isActive(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase != "Succeeded" && phase != "Failed" && !isTerminating(pod)
    }

    static func condition(_ object: JSONValue, _ type: String) -> JSONValue? {
        (object[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        condition(pod, "Ready")?["status"]?.stringValue == "True"
    }

    /// When the pod last became Ready.
    static func readySince(_ pod: JSONValue) -> Date? {
        guard isReady(pod) else { return nil }
        return condition(pod, "Ready")?["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse)
    }

    /// Ready for at least `minReadySeconds` at `now` (`podutil.IsPodAvailable`). A Ready pod
    /// without a transition time counts as available only when no wait is asked for.
    static func isAvailable(_ pod: JSONValue, minReadySeconds: Int, now: Date) -> Bool {
        guard isReady(pod) else { return false }
        if minReadySeconds == 0 { return true }
        guard let since = readySince(pod) else { return false }
        return since.addingTimeInterval(TimeInterval(minReadySeconds)) <= now
    }

    static func creationTime(_ object: JSONValue) -> Date? {
        object[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse)
    }

    /// `spec.selector`: a LabelSelector, or a ReplicationController's plain label map
    /// (an object of strings without `matchLabels`/`matchExpressions`).
    static func selector(of object: JSONValue) -> LabelSelector? {
        guard let s = object[path: ["spec", "selector"]] else { return nil }
        if let map = s.objectValue, !map.isEmpty, map["matchLabels"] == nil, map["matchExpressions"] == nil,
           map.values.allSatisfy({ $0.stringValue != nil }) {
            return try? LabelSelector.fromJSON(["matchLabels": s])
        }
        return try? LabelSelector.fromJSON(s)
    }
}
