import KubeModel

/// What the filters need to know about the whole cluster for one pod, computed once per
/// scheduling cycle (Kubernetes' PreFilter step) so that each node's check is cheap: the
/// topology domains that existing pods' anti-affinity closes to the pod, the domains that
/// already hold pods the pod's own anti-affinity rejects, and the topology spread counts.
struct PreFilterState: Sendable {
    /// Closed by existing pods' required anti-affinity: node names (hostname key) and
    /// `topologyKey → values`.
    var closedNodes: Set<String> = []
    var closedDomains: [String: Set<String>] = [:]
    /// One per required anti-affinity term of the pod: nodes and domain values holding a pod
    /// the term selects.
    var antiAffinity: [(key: String, nodes: Set<String>, values: Set<String>)] = []
    /// One per hard topology spread constraint: pods per domain value over eligible nodes.
    var spread: [(constraint: TopologySpread.Constraint, counts: [String: Int], minimum: Int)] = []
    /// Whether the pod counts toward each constraint's selector itself.
    var spreadSelfMatch: [Int] = []

    static let hostname = "kubernetes.io/hostname"

    /// The state for `pod` over `nodes` (every node of the cluster).
    init(pod: PodInfo, nodes: [NodeInfo]) {
        // By index: `for other in nodes` would copy every node (a dozen reference counts
        // each) for every pod scheduled, to find the few that hold anti-affinity pods.
        for i in nodes.indices where nodes[i].podsWithAntiAffinity > 0 {
            let other = nodes[i]
            for existing in other.podInfos.values where existing.uid != pod.uid {
                for t in existing.antiAffinityTerms {
                    guard let key = t["topologyKey"]?.stringValue, !key.isEmpty,
                          SchedulingFilters.term(t, ofPodIn: existing.namespace, selects: pod.pod) else { continue }
                    if key == Self.hostname { closedNodes.insert(other.name) }
                    if let value = other.labels[key] { closedDomains[key, default: []].insert(value) }
                }
            }
        }
        for t in pod.antiAffinityTerms {
            guard let key = t["topologyKey"]?.stringValue, !key.isEmpty else { continue }
            var names: Set<String> = []
            var values: Set<String> = []
            for other in nodes where other.podInfos.values.contains(where: {
                $0.uid != pod.uid && SchedulingFilters.term(t, ofPodIn: pod.namespace, selects: $0.pod)
            }) {
                names.insert(other.name)
                if let value = other.labels[key] { values.insert(value) }
            }
            antiAffinity.append((key, names, values))
        }
        let constraints = TopologySpread.hardConstraints(pod.pod)
        guard !constraints.isEmpty else { return }
        let eligible = nodes.filter { SchedulingFilters.matchesNodeSelectorAndAffinity(pod, labels: $0.labels, name: $0.name) }
        for c in constraints {
            var counts: [String: Int] = [:]
            for node in eligible {
                guard let value = node.labels[c.topologyKey] else { continue }
                counts[value, default: 0] += node.podInfos.values.filter {
                    $0.uid != pod.uid && $0.namespace == pod.namespace && c.selector.matches($0.labels)
                }.count
            }
            spread.append((c, counts, counts.values.min() ?? 0))
            spreadSelfMatch.append(c.selector.matches(pod.labels) ? 1 : 0)
        }
    }

    /// An existing pod's anti-affinity keeps the pod off `info`.
    func closedByExistingAntiAffinity(_ info: NodeInfo) -> Bool {
        if closedNodes.contains(info.name) { return true }
        for (key, values) in closedDomains {
            if let value = info.labels[key], values.contains(value) { return true }
        }
        return false
    }

    /// The pod's own anti-affinity rejects a pod in `info`'s domain. Kubernetes fills the
    /// hostname label itself; a node created by hand without it is its own domain.
    func violatesAntiAffinity(_ info: NodeInfo) -> Bool {
        antiAffinity.contains { term in
            if let value = info.labels[term.key] {
                return term.values.contains(value) || (term.key == Self.hostname && term.nodes.contains(info.name))
            }
            return term.key == Self.hostname && term.nodes.contains(info.name)
        }
    }

    /// Placing the pod on `info` keeps every hard spread constraint within its skew; a node
    /// without a constraint's topology label is in no domain and cannot take the pod.
    func satisfiesSpread(_ info: NodeInfo) -> Bool {
        for (i, s) in spread.enumerated() {
            guard let domain = info.labels[s.constraint.topologyKey] else { return false }
            if (s.counts[domain] ?? 0) + spreadSelfMatch[i] - s.minimum > s.constraint.maxSkew { return false }
        }
        return true
    }
}
