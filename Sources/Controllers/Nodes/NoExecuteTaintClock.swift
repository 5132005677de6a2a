import Foundation
import KubeModel

/// When the taint manager first saw each NoExecute taint that carries no `timeAdded`
/// (`kubectl taint` and most tools add none). Tolerations with `tolerationSeconds` count from
/// that moment, as Kubernetes' taint eviction counts from when it first queued the pod.
/// Kept in memory: a new controller-manager term starts the count again, as in Kubernetes.
final class NoExecuteTaintClock: Sendable {
    private let firstSeen = Locked<[String: [String: Date]]>([:])

    /// `taints` with `timeAdded` filled for NoExecute taints that lack one; forgets the taints
    /// the node no longer has.
    func stamp(node: String, taints: [JSONValue], now: Date) -> [JSONValue] {
        firstSeen.withLock { table in
            var seen = table[node] ?? [:]
            var present = Set<String>()
            let stamped = taints.map { taint -> JSONValue in
                guard taint["effect"]?.stringValue == "NoExecute", taint["timeAdded"]?.stringValue == nil else { return taint }
                let key = "\(taint["key"]?.stringValue ?? "")=\(taint["value"]?.stringValue ?? "")"
                present.insert(key)
                let since = seen[key] ?? now
                seen[key] = since
                var out = taint
                out["timeAdded"] = .string(Timestamp.format(since))
                return out
            }
            seen = seen.filter { present.contains($0.key) }
            table[node] = seen.isEmpty ? nil : seen
            return stamped
        }
    }
}
