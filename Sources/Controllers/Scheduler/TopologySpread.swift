import KubeModel

/// Kubernetes' PodTopologySpread filter for `whenUnsatisfiable: DoNotSchedule` constraints:
/// placing the pod must keep each constraint's skew (pods in the node's domain + 1 minus the
/// smallest count over eligible domains) within `maxSkew`. `ScheduleAnyway` constraints only
/// affect scoring in Kubernetes, so they are ignored here.
enum TopologySpread {
    /// One hard constraint, parsed; constraints missing a key or selector are skipped.
    struct Constraint: Sendable {
        let maxSkew: Int
        let topologyKey: String
        let selector: LabelSelector
    }

    /// The pod's `DoNotSchedule` constraints.
    static func hardConstraints(_ pod: JSONValue) -> [Constraint] {
        (pod[path: ["spec", "topologySpreadConstraints"]]?.arrayValue ?? []).compactMap { c in
            guard (c["whenUnsatisfiable"]?.stringValue ?? "DoNotSchedule") == "DoNotSchedule",
                  let key = c["topologyKey"]?.stringValue, !key.isEmpty,
                  let raw = c["labelSelector"], !raw.isNull,
                  let selector = try? LabelSelector.fromJSON(raw) else { return nil }
            // The API server rejects maxSkew < 1; treat a missing one as 1 rather than trap.
            let skew = max(1, c["maxSkew"]?.intValue.map(Int.init) ?? 1)
            return Constraint(maxSkew: skew, topologyKey: key, selector: selector)
        }
    }

    /// Whether placing `pod` on `info` keeps every hard constraint satisfied. `all` is every
    /// node with its bound pods; domains come from nodes that carry the key and pass the pod's
    /// node selector and required affinity (Kubernetes' default `nodeAffinityPolicy: Honor`).
    static func satisfies(pod: JSONValue, on info: NodeInfo, all: [NodeInfo]) -> Bool {
        PreFilterState(pod: PodInfo(pod), nodes: all).satisfiesSpread(info)
    }
}
