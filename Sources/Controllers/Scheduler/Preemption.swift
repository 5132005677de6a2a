import KubeModel

/// Kubernetes' DefaultPreemption, run when a pod fits nowhere: find nodes where deleting pods
/// of lower priority would make room, keep as few of those victims as possible (each is
/// spared, highest priority first, if the pod still fits with it; pods a PodDisruptionBudget
/// protects are spared before the others), and pick the node whose victims break the fewest
/// budgets and matter least. Pure: the scheduler feeds it a snapshot of its cache.
enum Preemption {
    /// A node the pod fits on once `victims` are gone.
    struct Candidate: Sendable {
        let node: String
        let victims: [PodInfo]
        /// Victims whose deletion takes a PodDisruptionBudget below zero.
        var budgetViolations = 0

        /// Kubernetes' order between candidates: the fewest budgets broken, the lowest
        /// highest-victim priority, the smallest sum of priorities, the fewest victims; then
        /// the name, to be stable.
        func isBetter(than other: Candidate) -> Bool {
            let mine = (budgetViolations, highest, sum, victims.count)
            let theirs = (other.budgetViolations, other.highest, other.sum, other.victims.count)
            return mine != theirs ? mine < theirs : node < other.node
        }

        var highest: Int { victims.map { Scheduler.priority($0.pod) }.max() ?? Int.min }
        var sum: Int { victims.reduce(0) { $0 + Scheduler.priority($1.pod) } }
    }

    enum Outcome: Sendable {
        /// Delete these pods; the pod is nominated to the node.
        case preempt(Candidate)
        /// Preemption cannot help; the clause Kubernetes appends to the FailedScheduling message.
        case none(String)
    }

    /// Enough candidates to choose well without looking at every node of a large cluster
    /// (Kubernetes' minCandidateNodesPercentage and minCandidateNodesAbsolute).
    static func candidatesWanted(total: Int) -> Int { max(min(total, 100), total / 10) }

    /// Whether `pod` may preempt at all: not with `preemptionPolicy: Never`, and not again
    /// while pods it already preempted on its nominated node are still terminating.
    /// `nominated` is the scheduler's own record, which may be ahead of the pod's status.
    static func refusal(pod: PodInfo, nodes: [NodeInfo], nominated: String? = nil) -> String? {
        if pod.pod[path: ["spec", "preemptionPolicy"]]?.stringValue == "Never" {
            return "not eligible due to preemptionPolicy=Never."
        }
        let nominated = nominated ?? pod.pod[path: ["status", "nominatedNodeName"]]?.stringValue ?? ""
        guard !nominated.isEmpty, let node = nodes.first(where: { $0.name == nominated }) else { return nil }
        let priority = Scheduler.priority(pod.pod)
        let terminating = node.podInfos.values.contains {
            $0.pod[path: ["metadata", "deletionTimestamp"]] != nil && Scheduler.priority($0.pod) < priority
        }
        return terminating ? "not eligible due to a terminating pod on the nominated node." : nil
    }

    /// The best candidate over `nodes`, or why there is none.
    static func find(pod: PodInfo, nodes: [NodeInfo], nominated: String? = nil, budgets: [PreemptionBudget] = [],
                     extraFilter: (PodInfo, NodeInfo) -> FilterFailure? = { _, _ in nil }) -> Outcome {
        if let refusal = refusal(pod: pod, nodes: nodes, nominated: nominated) { return .none(refusal) }
        let priority = Scheduler.priority(pod.pod)
        let wanted = candidatesWanted(total: nodes.count)
        // Topology-wide rules read every node, so each trial needs its own pre-filter state.
        let topologyWide = !pod.antiAffinityTerms.isEmpty || !TopologySpread.hardConstraints(pod.pod).isEmpty
            || nodes.contains { $0.podsWithAntiAffinity > 0 }
        let shared = topologyWide ? nil : PreFilterState(pod: pod, nodes: nodes)
        // The cluster as it is, for the first check of every node.
        let current = shared ?? PreFilterState(pod: pod, nodes: nodes)
        var best: Candidate?
        var found = 0, notHelpful = 0, noVictims = 0
        for (index, node) in nodes.enumerated() where found < wanted {
            func fits(_ trial: NodeInfo) -> Bool {
                var state = shared
                if state == nil {
                    var all = nodes
                    all[index] = trial
                    state = PreFilterState(pod: pod, nodes: all)
                }
                guard let state else { return false }
                return SchedulingFilters.failures(pod: pod, on: trial, state: state).isEmpty && extraFilter(pod, trial) == nil
            }
            let failures = SchedulingFilters.failures(pod: pod, on: node, state: current)
            if failures.contains(where: { !$0.isResolvedByPreemption }) || (failures.isEmpty && extraFilter(pod, node) != nil) {
                notHelpful += 1
                continue
            }
            let lower = node.podInfos.values.filter { Scheduler.priority($0.pod) < priority && $0.uid != pod.uid }
            var trial = node
            for victim in lower { trial.remove(victim.key) }
            guard !lower.isEmpty, fits(trial) else {
                noVictims += 1
                continue
            }
            // Spare the pods budgets protect, then the others, most important first: each goes
            // back if the pod still fits.
            let (violating, others) = PreemptionBudget.split(lower.sorted(by: Self.moreImportant), budgets: budgets)
            var victims: [PodInfo] = []
            var violations = 0
            for (candidate, breaksBudget) in violating.map({ ($0, true) }) + others.map({ ($0, false) }) {
                trial.add(candidate)
                if !fits(trial) {
                    trial.remove(candidate.key)
                    victims.append(candidate)
                    if breaksBudget { violations += 1 }
                }
            }
            found += 1
            let c = Candidate(node: node.name, victims: victims, budgetViolations: violations)
            if best.map({ c.isBetter(than: $0) }) ?? true { best = c }
        }
        if let best { return .preempt(best) }
        var reasons: [String: Int] = [:]
        if noVictims > 0 { reasons["No preemption victims found for incoming pod"] = noVictims }
        if notHelpful > 0 { reasons["Preemption is not helpful for scheduling"] = notHelpful }
        return .none(SchedulingScore.message(total: nodes.count, reasons: reasons))
    }

    /// Higher priority first, then the pod that started earlier (it has run longer); a pod
    /// not started yet counts as starting now, after every started one.
    static func moreImportant(_ a: PodInfo, _ b: PodInfo) -> Bool {
        let pa = Scheduler.priority(a.pod), pb = Scheduler.priority(b.pod)
        if pa != pb { return pa > pb }
        let sa = a.pod[path: ["status", "startTime"]]?.stringValue ?? "", sb = b.pod[path: ["status", "startTime"]]?.stringValue ?? ""
        if sa.isEmpty != sb.isEmpty { return !sa.isEmpty }
        return sa != sb ? sa < sb : a.key < b.key
    }
}

extension FilterFailure {
    /// Whether deleting pods from the node can make this failure go away (Kubernetes marks the
    /// others UnschedulableAndUnresolvable).
    var isResolvedByPreemption: Bool {
        switch self {
        case .insufficient, .tooManyPods, .portsInUse, .antiAffinity, .existingAntiAffinity, .topologySpread: true
        case .notReady, .unschedulable, .nodeSelectorMismatch, .untoleratedTaint, .other: false
        }
    }
}
