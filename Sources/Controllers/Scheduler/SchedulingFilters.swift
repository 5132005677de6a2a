import KubeModel

/// Why a node cannot take a pod, worded as Kubernetes' scheduler words it in its fit errors.
enum FilterFailure: Hashable, Sendable, CustomStringConvertible {
    case notReady
    case unschedulable
    case insufficient(String)
    case tooManyPods
    case nodeSelectorMismatch
    case untoleratedTaint(key: String, value: String)
    case antiAffinity
    case existingAntiAffinity
    case topologySpread
    case portsInUse
    /// A filter's own reason (filters added beside the built-in ones).
    case other(String)

    var description: String {
        switch self {
        case .notReady: "node(s) were not ready"
        case .unschedulable: "node(s) were unschedulable"
        case .insufficient(let resource): "Insufficient \(resource)"
        case .tooManyPods: "Too many pods"
        case .nodeSelectorMismatch: "node(s) didn't match Pod's node affinity/selector"
        case .untoleratedTaint(let key, let value): "node(s) had untolerated taint {\(key): \(value)}"
        case .antiAffinity: "node(s) didn't match pod anti-affinity rules"
        case .existingAntiAffinity: "node(s) didn't satisfy existing pods anti-affinity rules"
        case .topologySpread: "node(s) didn't match pod topology spread constraints"
        case .portsInUse: "node(s) didn't have free ports for the requested pod ports"
        case .other(let reason): reason
        }
    }
}

/// The scheduler's filters: pure functions of a pod and a node (with what the pre-filter step
/// gathered over every node), run in Kubernetes' order; the first filter that fails decides a
/// node's reasons.
enum SchedulingFilters {
    /// Reasons `info` cannot take `pod`; empty when it fits. `all` is every node (for
    /// topology-wide anti-affinity and spreading).
    static func failures(pod: JSONValue, on info: NodeInfo, all: [NodeInfo]) -> [FilterFailure] {
        let podInfo = PodInfo(pod)
        return failures(pod: podInfo, on: info, state: PreFilterState(pod: podInfo, nodes: all))
    }

    /// Reasons `info` cannot take `pod`, with the cluster-wide part precomputed in `state`.
    static func failures(pod: PodInfo, on info: NodeInfo, state: PreFilterState) -> [FilterFailure] {
        if !info.isReady { return [.notReady] }
        if info.isUnschedulable,
           !tolerates(pod.pod, taint: ["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]) {
            return [.unschedulable]
        }
        if !matchesNodeSelectorAndAffinity(pod, labels: info.labels, name: info.name) { return [.nodeSelectorMismatch] }
        if let taint = untoleratedTaint(pod.pod, taints: info.taints) {
            return [.untoleratedTaint(key: taint["key"]?.stringValue ?? "", value: taint["value"]?.stringValue ?? "")]
        }
        if pod.hostPorts.contains(where: info.portInUse) { return [.portsInUse] }
        let resources = resourceFailures(pod: pod, on: info)
        if !resources.isEmpty { return resources }
        if state.closedByExistingAntiAffinity(info) { return [.existingAntiAffinity] }
        if state.violatesAntiAffinity(info) { return [.antiAffinity] }
        if !state.satisfiesSpread(info) { return [.topologySpread] }
        return []
    }

    // MARK: - node condition

    /// The node's Ready condition is True.
    static func isReady(_ node: JSONValue) -> Bool {
        ObjectRules.condition(node, "Ready")?["status"]?.stringValue == "True"
    }

    // MARK: - resources

    /// Every resource the pod requests that the node's allocatable, minus what its pods already
    /// request, cannot hold; plus the pod count.
    static func resourceFailures(pod: PodInfo, on info: NodeInfo) -> [FilterFailure] {
        var failures: [FilterFailure] = []
        if Int64(info.podInfos.count) + 1 > info.allocatable["pods"] ?? 0 { failures.append(.tooManyPods) }
        for (name, want) in pod.positiveRequests where want > (info.allocatable[name] ?? 0) - info.requested[name, default: 0] {
            failures.append(.insufficient(name))
        }
        return failures
    }

    /// `status.allocatable` (falling back to `status.capacity`) in scheduler units.
    static func allocatable(_ node: JSONValue) -> [String: Int64] {
        let source = node[path: ["status", "allocatable"]]?.objectValue ?? node[path: ["status", "capacity"]]?.objectValue ?? [:]
        return PodResources.amounts(source)
    }

    // MARK: - node selector and required node affinity

    /// `spec.nodeSelector` matches the node's labels and, when present, one of the required
    /// node affinity terms matches the node.
    static func matchesNodeSelectorAndAffinity(_ pod: JSONValue, node: JSONValue) -> Bool {
        matchesNodeSelectorAndAffinity(pod, labels: node.labels, name: node.name ?? "")
    }

    /// The same, given the node's labels and name.
    static func matchesNodeSelectorAndAffinity(_ pod: JSONValue, labels: [String: String], name: String) -> Bool {
        matchesNodeSelectorAndAffinity(PodInfo(pod), labels: labels, name: name)
    }

    /// The same, with the pod's selector and affinity already read.
    static func matchesNodeSelectorAndAffinity(_ pod: PodInfo, labels: [String: String], name: String) -> Bool {
        for (key, value) in pod.nodeSelector where labels[key] != value { return false }
        guard let required = pod.requiredNodeAffinity else { return true }
        let terms = required["nodeSelectorTerms"]?.arrayValue ?? []
        return terms.contains { matches(term: $0, labels: labels, name: name) }
    }

    /// A node selector term: all its expressions and fields hold; an empty term matches nothing.
    static func matches(term: JSONValue, node: JSONValue) -> Bool {
        matches(term: term, labels: node.labels, name: node.name ?? "")
    }

    /// The same, given the node's labels and name.
    static func matches(term: JSONValue, labels: [String: String], name: String) -> Bool {
        let expressions = term["matchExpressions"]?.arrayValue ?? []
        let fields = term["matchFields"]?.arrayValue ?? []
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        let nodeFields = ["metadata.name": name]
        return expressions.allSatisfy { requirement($0, matches: labels) }
            && fields.allSatisfy { requirement($0, matches: nodeFields) }
    }

    /// One `{key, operator, values}` node selector requirement against a label map.
    static func requirement(_ r: JSONValue, matches labels: [String: String]) -> Bool {
        guard let key = r["key"]?.stringValue else { return false }
        let values = (r["values"]?.arrayValue ?? []).compactMap(\.stringValue)
        let have = labels[key]
        switch r["operator"]?.stringValue {
        case "In": return have.map(values.contains) ?? false
        case "NotIn": return have.map { !values.contains($0) } ?? true
        case "Exists": return have != nil
        case "DoesNotExist": return have == nil
        case "Gt", "Lt":
            guard values.count == 1, let want = Int64(values[0]), let got = have.flatMap({ Int64($0) }) else { return false }
            return r["operator"]?.stringValue == "Gt" ? got > want : got < want
        default: return false
        }
    }

    // MARK: - taints and tolerations

    /// The first NoSchedule or NoExecute taint none of the pod's tolerations tolerates.
    static func untoleratedTaint(_ pod: JSONValue, taints: [JSONValue]) -> JSONValue? {
        taints.first { taint in
            let effect = taint["effect"]?.stringValue
            return (effect == "NoSchedule" || effect == "NoExecute") && !tolerates(pod, taint: taint)
        }
    }

    /// Whether any of the pod's tolerations tolerates `taint`.
    static func tolerates(_ pod: JSONValue, taint: JSONValue) -> Bool {
        (pod[path: ["spec", "tolerations"]]?.arrayValue ?? []).contains { toleration($0, tolerates: taint) }
    }

    /// `Toleration.ToleratesTaint`: same effect (or any), and an empty key with Exists, the
    /// same key with Exists, or the same key and value with Equal (the default operator).
    static func toleration(_ t: JSONValue, tolerates taint: JSONValue) -> Bool {
        let effect = t["effect"]?.stringValue ?? ""
        if !effect.isEmpty && effect != (taint["effect"]?.stringValue ?? "") { return false }
        let key = t["key"]?.stringValue ?? ""
        let op = t["operator"]?.stringValue ?? "Equal"
        if key.isEmpty { return op == "Exists" }
        guard key == taint["key"]?.stringValue else { return false }
        switch op {
        case "Exists": return true
        case "Equal", "": return (t["value"]?.stringValue ?? "") == (taint["value"]?.stringValue ?? "")
        default: return false
        }
    }

    // MARK: - pod anti-affinity

    /// The pod's required anti-affinity terms.
    static func antiAffinityTerms(_ pod: JSONValue) -> [JSONValue] {
        pod[path: ["spec", "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]]?.arrayValue ?? []
    }

    /// Whether `term` (written on a pod in `ownerNamespace`) selects `candidate`. A missing
    /// label selector selects nothing, as in Kubernetes.
    static func term(_ term: JSONValue, ofPodIn ownerNamespace: String, selects candidate: JSONValue) -> Bool {
        let namespaces = (term["namespaces"]?.arrayValue ?? []).compactMap(\.stringValue)
        let allowed = namespaces.isEmpty ? [ownerNamespace] : namespaces
        guard allowed.contains(candidate.namespace ?? "") else { return false }
        guard let raw = term["labelSelector"], !raw.isNull, let selector = try? LabelSelector.fromJSON(raw) else { return false }
        return selector.matches(candidate.labels)
    }
}

/// Resource requests of pods in the units the scheduler compares: millicores for cpu, plain
/// values (bytes, counts) for everything else.
enum PodResources {
    /// Converts a `{name: quantity}` map; unparsable quantities are skipped.
    static func amounts(_ map: [String: JSONValue]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (name, raw) in map {
            let text = raw.stringValue ?? raw.intValue.map(String.init) ?? raw.doubleValue.map { "\($0)" }
            guard let text, let q = Quantity.parse(text) else { continue }
            out[name] = name == "cpu" ? q.milliValue : q.value
        }
        return out
    }

    /// A container's requests, with limits standing in for missing requests (API defaulting).
    static func containerRequests(_ c: JSONValue) -> [String: Int64] {
        var r = amounts(c[path: ["resources", "limits"]]?.objectValue ?? [:])
        for (k, v) in amounts(c[path: ["resources", "requests"]]?.objectValue ?? [:]) { r[k] = v }
        return r
    }

    /// The pod's effective requests: the larger of the containers' sum and the largest init
    /// container, plus the pod overhead (Kubernetes' `computePodResourceRequest`).
    static func requests(of pod: JSONValue) -> [String: Int64] {
        var sum: [String: Int64] = [:]
        for c in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            for (k, v) in containerRequests(c) { sum[k, default: 0] += v }
        }
        for c in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] {
            for (k, v) in containerRequests(c) where v > sum[k, default: 0] { sum[k] = v }
        }
        for (k, v) in amounts(pod[path: ["spec", "overhead"]]?.objectValue ?? [:]) { sum[k, default: 0] += v }
        return sum
    }
}
