import KubeModel

/// What the scheduling algorithm decided for one pod.
enum SchedulingDecision: Sendable, Equatable {
    /// Bind to this node.
    case bind(String)
    /// No node fits; the message explains why, Kubernetes-style.
    case unschedulable(String)
}

/// Scoring and the whole algorithm (pre-filter, filter, score, pick), pure: the scheduler
/// feeds it its cache, tests feed it literals.
enum SchedulingScore {
    /// Requests assumed for pods that ask for nothing, so they still spread (Kubernetes'
    /// non-zero defaults: 100m cpu, 200Mi memory).
    static let defaultMilliCPU: Int64 = 100
    static let defaultMemory: Int64 = 200 * 1024 * 1024

    /// Filters every node, scores the feasible ones and picks the best, ties going to the
    /// smallest name so that equal clusters give equal answers.
    static func schedule(pod: JSONValue, nodes: [NodeInfo]) -> SchedulingDecision {
        schedule(pod: PodInfo(pod), nodes: nodes, start: 0).decision
    }

    /// How many feasible nodes are enough (Kubernetes' adaptive percentageOfNodesToScore):
    /// every node up to 100, else 50% less 1% per 125 nodes, at least 5% and 100 nodes.
    static func feasibleNodesToFind(total: Int) -> Int {
        guard total > 100 else { return total }
        let percentage = max(5, 50 - total / 125)
        return min(total, max(100, total * percentage / 100))
    }

    /// Filters nodes from `start` on (wrapping) until enough are feasible, scores those and
    /// picks the best. `extraFilter` runs on nodes the built-in filters accept. Answers the
    /// decision and how many nodes were looked at, so that the next cycle starts after them.
    static func schedule(pod: PodInfo, nodes: [NodeInfo], start: Int,
                         extraFilter: (PodInfo, NodeInfo) -> FilterFailure? = { _, _ in nil }) -> (decision: SchedulingDecision, evaluated: Int) {
        guard !nodes.isEmpty else { return (.unschedulable(message(total: 0, reasons: [:])), 0) }
        let state = PreFilterState(pod: pod, nodes: nodes)
        // Elements read in place: an array element handed to a function or closure was copied
        // first, a dozen reference counts per node and a third of the time spent here.
        return nodes.withUnsafeBufferPointer { nodes in
            schedule(pod: pod, nodes: nodes, start: start, state: state, extraFilter: extraFilter)
        }
    }

    private static func schedule(pod: PodInfo, nodes: UnsafeBufferPointer<NodeInfo>, start: Int, state: PreFilterState,
                                 extraFilter: (PodInfo, NodeInfo) -> FilterFailure?) -> (decision: SchedulingDecision, evaluated: Int) {
        let wanted = feasibleNodesToFind(total: nodes.count)
        var feasible: [Int] = []
        feasible.reserveCapacity(wanted)
        var reasons: [String: Int] = [:]
        var evaluated = 0
        while evaluated < nodes.count && feasible.count < wanted {
            let index = (start + evaluated) % nodes.count
            evaluated += 1
            var failures = SchedulingFilters.failures(pod: pod, on: nodes[index], state: state)
            if failures.isEmpty, let extra = extraFilter(pod, nodes[index]) { failures = [extra] }
            if failures.isEmpty {
                feasible.append(index)
            } else {
                for f in Set(failures) { reasons[f.description, default: 0] += 1 }
            }
        }
        guard !feasible.isEmpty else { return (.unschedulable(message(total: nodes.count, reasons: reasons)), evaluated) }
        let spread = spreadScores(pod: pod, nodes: nodes, indices: feasible)
        var best = feasible[0]
        var bestScore = Int64.min
        for (i, index) in feasible.enumerated() {
            let score = leastAllocated(pod: pod, on: nodes[index]) + spread[i]
            if score > bestScore || (score == bestScore && nodes[index].name < nodes[best].name) {
                best = index
                bestScore = score
            }
        }
        return (.bind(nodes[best].name), evaluated)
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
    static func leastAllocated(pod: PodInfo, on info: NodeInfo) -> Int64 {
        func free(_ requested: Int64, of capacity: Int64) -> Int64 {
            guard capacity > 0, requested <= capacity else { return 0 }
            // Scaled before dividing so large memory values keep their precision.
            return Int64((Double(capacity - requested) * 100 / Double(capacity)).rounded(.down))
        }
        return (free(info.nonZeroCPU + pod.nonZeroCPU, of: info.allocatable["cpu"] ?? 0)
            + free(info.nonZeroMemory + pod.nonZeroMemory, of: info.allocatable["memory"] ?? 0)) / 2
    }

    /// Same-owner spreading (Kubernetes' selector spread), one score per node of `indices`:
    /// nodes holding fewer pods of the pod's controller score higher, 0...100; pods without a
    /// controller score all nodes 100.
    static func spreadScores(pod: PodInfo, nodes: UnsafeBufferPointer<NodeInfo>, indices: [Int]) -> [Int64] {
        guard let owner = pod.controllerUID, !owner.isEmpty else { return Array(repeating: 100, count: indices.count) }
        let counts = indices.map { i in
            Int64(nodes[i].podInfos.values.count { $0.namespace == pod.namespace && $0.controllerUID == owner })
        }
        let maxCount = counts.max() ?? 0
        return counts.map { maxCount == 0 ? 100 : (maxCount - $0) * 100 / maxCount }
    }
}
