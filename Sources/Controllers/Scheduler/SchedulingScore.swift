import KubeModel

/// What the scheduling algorithm decided for one pod.
enum SchedulingDecision: Sendable, Equatable {
    /// Bind to this node.
    case bind(String)
    /// No node fits; the message explains why, Kubernetes-style.
    case unschedulable(String)
}

/// Scoring and the whole algorithm (filter, score, pick), pure: the scheduler feeds it cache
/// snapshots, tests feed it literals.
enum SchedulingScore {
    /// Requests assumed for pods that ask for nothing, so they still spread (Kubernetes'
    /// non-zero defaults: 100m cpu, 200Mi memory).
    static let defaultMilliCPU: Int64 = 100
    static let defaultMemory: Int64 = 200 * 1024 * 1024

    /// Filters every node, scores the feasible ones and picks the best, ties going to the
    /// smallest name so that equal clusters give equal answers. `extraFilter` runs after the
    /// built-in filters (volume binding), giving a reason or nil.
    static func schedule(pod: JSONValue, nodes: [NodeInfo],
                         extraFilter: (NodeInfo) -> String? = { _ in nil }) -> SchedulingDecision {
        var feasible: [NodeInfo] = []
        var reasons: [String: Int] = [:]
        for info in nodes {
            var failures = Set(SchedulingFilters.failures(pod: pod, on: info, all: nodes).map(\.description))
            if failures.isEmpty, let extra = extraFilter(info) { failures.insert(extra) }
            if failures.isEmpty {
                feasible.append(info)
            } else {
                for f in failures { reasons[f, default: 0] += 1 }
            }
        }
        guard !feasible.isEmpty else { return .unschedulable(message(total: nodes.count, reasons: reasons)) }
        let spread = spreadScores(pod: pod, nodes: feasible)
        let best = feasible.max { a, b in
            let sa = leastAllocated(pod: pod, on: a) + spread[a.name, default: 0]
            let sb = leastAllocated(pod: pod, on: b) + spread[b.name, default: 0]
            return sa != sb ? sa < sb : a.name > b.name
        }
        return best.map { .bind($0.name) } ?? .unschedulable(message(total: nodes.count, reasons: reasons))
    }

    /// `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node
    /// affinity/selector.` with reasons sorted as Kubernetes sorts them.
    static func message(total: Int, reasons: [String: Int]) -> String {
        guard total > 0 else { return "no nodes available to schedule pods" }
        let parts = reasons.keys.sorted().map { "\(reasons[$0, default: 0]) \($0)" }
        return "0/\(total) nodes are available: " + parts.joined(separator: ", ") + "."
    }

    /// Kubernetes' LeastAllocated for cpu and memory: the share left free after placing the
    /// pod, 0...100, averaged.
    static func leastAllocated(pod: JSONValue, on info: NodeInfo) -> Int64 {
        let allocatable = SchedulingFilters.allocatable(info.node)
        var total: Int64 = 0
        for (name, fallback) in [("cpu", defaultMilliCPU), ("memory", defaultMemory)] {
            let capacity = allocatable[name] ?? 0
            guard capacity > 0 else { continue }
            var requested = nonZero(pod, name, fallback)
            for p in info.pods { requested += nonZero(p, name, fallback) }
            guard requested <= capacity else { continue }
            // Scaled before dividing so large memory values keep their precision.
            total += Int64((Double(capacity - requested) * 100 / Double(capacity)).rounded(.down))
        }
        return total / 2
    }

    private static func nonZero(_ pod: JSONValue, _ name: String, _ fallback: Int64) -> Int64 {
        let v = PodResources.requests(of: pod)[name] ?? 0
        return v > 0 ? v : fallback
    }

    /// Same-owner spreading (Kubernetes' selector spread): nodes holding fewer pods of the
    /// pod's controller score higher, 0...100; pods without a controller score all nodes 100.
    static func spreadScores(pod: JSONValue, nodes: [NodeInfo]) -> [String: Int64] {
        guard let owner = ObjectRules.controllerRef(of: pod)?["uid"]?.stringValue, !owner.isEmpty else {
            return Dictionary(nodes.map { ($0.name, 100) }, uniquingKeysWith: { a, _ in a })
        }
        let counts = nodes.map { info in
            (info.name, Int64(info.pods.filter {
                $0.namespace == pod.namespace && ObjectRules.controllerRef(of: $0)?["uid"]?.stringValue == owner
            }.count))
        }
        let maxCount = counts.map(\.1).max() ?? 0
        return Dictionary(counts.map { name, c in (name, maxCount == 0 ? 100 : (maxCount - c) * 100 / maxCount) },
                          uniquingKeysWith: { a, _ in a })
    }
}
