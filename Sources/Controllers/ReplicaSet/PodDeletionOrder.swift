import Foundation
import KubeModel

/// The order in which a ReplicaSet gives up surplus pods, as Kubernetes' `ActivePods` sort:
/// the pod that is least useful goes first.
///
/// 1. not on a node before on a node;
/// 2. Pending before Unknown before Running;
/// 3. not ready before ready;
/// 4. ready for less time before ready for longer;
/// 5. more restarts (of its most restarted container) before fewer;
/// 6. newer before older.
public enum PodDeletionOrder {
    /// `pods` sorted so that the first ones are the ones to delete.
    public static func sorted(_ pods: [JSONValue]) -> [JSONValue] {
        pods.sorted(by: deleteFirst)
    }

    /// Whether `a` should be deleted before `b`.
    public static func deleteFirst(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let aNode = !(a[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
        let bNode = !(b[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
        if aNode != bNode { return !aNode }

        let aPhase = phaseRank(a), bPhase = phaseRank(b)
        if aPhase != bPhase { return aPhase < bPhase }

        let aReady = ObjectRules.isReady(a), bReady = ObjectRules.isReady(b)
        if aReady != bReady { return !aReady }

        if aReady, bReady, let ta = ObjectRules.readySince(a), let tb = ObjectRules.readySince(b), ta != tb {
            return ta > tb
        }

        let aRestarts = restarts(a), bRestarts = restarts(b)
        if aRestarts != bRestarts { return aRestarts > bRestarts }

        let ca = ObjectRules.creationTime(a) ?? .distantPast, cb = ObjectRules.creationTime(b) ?? .distantPast
        if ca != cb { return ca > cb }
        // Names are unique in a namespace: a stable last resort.
        return (a.name ?? "") > (b.name ?? "")
    }

    private static func phaseRank(_ pod: JSONValue) -> Int {
        switch pod[path: ["status", "phase"]]?.stringValue {
        case "Pending", nil: return 0
        case "Unknown": return 1
        case "Running": return 2
        default: return 3
        }
    }

    private static func restarts(_ pod: JSONValue) -> Int {
        (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [])
            .reduce(0) { max($0, ObjectRules.int($1["restartCount"])) }
    }
}
