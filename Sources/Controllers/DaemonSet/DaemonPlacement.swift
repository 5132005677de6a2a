import KubeModel

/// Where a DaemonSet's pods belong (Kubernetes' `NodeShouldRunDaemonPod`) and what a daemon
/// pod looks like: the template plus the tolerations Kubernetes adds to every daemon pod and
/// a required node affinity on the node's name, which the scheduler honours.
enum DaemonPlacement {
    /// Whether a new daemon pod goes on a node, and whether one already there may stay.
    struct Verdict: Equatable {
        var shouldRun: Bool
        var shouldContinueRunning: Bool
    }

    /// The tolerations every daemon pod gets (`util.AddOrUpdateDaemonPodTolerations`): it stays
    /// through not-ready/unreachable nodes and goes onto nodes under pressure or cordoned.
    static let defaultTolerations: [JSONValue] = [
        ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"],
    ]

    /// What `verdict` reads of a node: a node update that leaves it alone (a status heartbeat)
    /// changes no DaemonSet's placement.
    static func placementView(of node: JSONValue) -> JSONValue {
        ["labels": node[path: ["metadata", "labels"]] ?? .null, "spec": node["spec"] ?? .null,
         "deleting": .bool(ObjectRules.isTerminating(node))]
    }

    /// Placement of `ds`'s pod on `node`: its nodeSelector and required node affinity must
    /// match, NoSchedule and NoExecute taints must be tolerated to start, NoExecute ones to stay.
    static func verdict(for ds: JSONValue, on node: JSONValue) -> Verdict {
        let pod = newPod(for: ds, node: node.name ?? "", hash: "")
        if ObjectRules.isTerminating(node) { return Verdict(shouldRun: false, shouldContinueRunning: false) }
        var probe = pod
        // The name affinity is ours; judge the template's own affinity.
        probe[path: ["spec", "affinity"]] = ds[path: ["spec", "template", "spec", "affinity"]]
        guard SchedulingFilters.matchesNodeSelectorAndAffinity(probe, node: node) else {
            return Verdict(shouldRun: false, shouldContinueRunning: false)
        }
        var verdict = Verdict(shouldRun: true, shouldContinueRunning: true)
        for taint in node[path: ["spec", "taints"]]?.arrayValue ?? [] where !SchedulingFilters.tolerates(pod, taint: taint) {
            switch taint["effect"]?.stringValue {
            case "NoExecute": return Verdict(shouldRun: false, shouldContinueRunning: false)
            case "NoSchedule": verdict.shouldRun = false
            default: break
            }
        }
        return verdict
    }

    /// A daemon pod of `ds` for `node`, labelled with the revision hash and controlled by `ds`.
    static func newPod(for ds: JSONValue, node: String, hash: String) -> JSONValue {
        let template = ds[path: ["spec", "template"]] ?? .object([:])
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? [:]
        if !hash.isEmpty { labels[ControllerHistory.podHashLabel] = .string(hash) }
        var meta: JSONValue = [
            "generateName": .string((ds.name ?? "") + "-"),
            "labels": .object(labels),
            "ownerReferences": [ObjectRules.ownerReference(to: ds, apiVersion: "apps/v1", kind: "DaemonSet")],
        ]
        if let ns = ds.namespace { meta["namespace"] = .string(ns) }
        if let annotations = template[path: ["metadata", "annotations"]] { meta["annotations"] = annotations }
        var spec = template["spec"] ?? .object([:])
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        for t in defaultTolerations where !tolerations.contains(where: { $0["key"] == t["key"] && $0["effect"] == t["effect"] }) {
            tolerations.append(t)
        }
        spec["tolerations"] = .array(tolerations)
        spec[path: ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]] = [
            "nodeSelectorTerms": [["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]],
        ]
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec]
    }

    /// The node a daemon pod is for: where it runs, or the node its name affinity asks for.
    static func node(of pod: JSONValue) -> String? {
        if let name = pod[path: ["spec", "nodeName"]]?.stringValue, !name.isEmpty { return name }
        let terms = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.arrayValue ?? []
        for term in terms {
            for field in term["matchFields"]?.arrayValue ?? [] where field["key"] == "metadata.name" && field["operator"] == "In" {
                if let values = field["values"]?.arrayValue, values.count == 1, let name = values[0].stringValue { return name }
            }
        }
        return nil
    }
}
