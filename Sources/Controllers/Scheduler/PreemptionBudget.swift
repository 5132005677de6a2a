import KubeModel

/// What preemption reads of a PodDisruptionBudget: which pods it covers and how many more may
/// go (`status.disruptionsAllowed`). Kubernetes' preemption prefers victims whose deletion keeps
/// every budget at or above zero, and nodes where fewer budgets would be broken; it still
/// breaks one when nothing else makes room (a preemption is not an eviction).
struct PreemptionBudget: Sendable {
    let namespace: String
    let selector: LabelSelector
    let allowed: Int
    /// Pods whose disruption the budget already counts (`status.disruptedPods`).
    let disrupted: Set<String>

    init?(_ budget: JSONValue) {
        guard let namespace = budget.namespace, let raw = budget[path: ["spec", "selector"]],
              let selector = try? LabelSelector.fromJSON(raw) else { return nil }
        // An empty selector covers nothing here, as in Kubernetes' preemption.
        guard !(raw["matchLabels"]?.objectValue?.isEmpty ?? true) || !(raw["matchExpressions"]?.arrayValue?.isEmpty ?? true) else { return nil }
        self.namespace = namespace
        self.selector = selector
        allowed = Int(clamping: budget[path: ["status", "disruptionsAllowed"]]?.intValue ?? 0)
        disrupted = Set(budget[path: ["status", "disruptedPods"]]?.objectValue?.keys.map { $0 } ?? [])
    }

    func covers(_ pod: JSONValue) -> Bool {
        pod.namespace == namespace && selector.matches(pod.labels)
    }

    /// Splits `pods` (most important first) into those whose deletion, counted in that order
    /// against every budget covering them, takes a budget below zero, and the others.
    static func split(_ pods: [PodInfo], budgets: [PreemptionBudget]) -> (violating: [PodInfo], others: [PodInfo]) {
        guard !budgets.isEmpty else { return ([], pods) }
        var left = budgets.map(\.allowed)
        var violating: [PodInfo] = [], others: [PodInfo] = []
        for pod in pods {
            var breaks = false
            for (i, budget) in budgets.enumerated() where budget.covers(pod.pod) && !budget.disrupted.contains(pod.pod.name ?? "") {
                left[i] -= 1
                if left[i] < 0 { breaks = true }
            }
            if breaks { violating.append(pod) } else { others.append(pod) }
        }
        return (violating, others)
    }
}
