import KubeModel

/// One node as the scheduler sees it: the Node object and the non-terminal pods bound to it.
struct NodeInfo: Sendable {
    let node: JSONValue
    let pods: [JSONValue]

    var name: String { node.name ?? "" }
    var labels: [String: String] { node.labels }
}

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
        }
    }
}

/// The scheduler's filters: pure functions of a pod and a node (with the pods bound to the
/// nodes), run in Kubernetes' order; the first filter that fails decides a node's reasons.
enum SchedulingFilters {
    /// Reasons `info` cannot take `pod`; empty when it fits. `all` is every node (for
    /// topology-wide anti-affinity).
    static func failures(pod: JSONValue, on info: NodeInfo, all: [NodeInfo]) -> [FilterFailure] {
        if !isReady(info.node) { return [.notReady] }
        if info.node[path: ["spec", "unschedulable"]]?.boolValue == true,
           !tolerates(pod, taint: ["key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"]) {
            return [.unschedulable]
        }
        if !matchesNodeSelectorAndAffinity(pod, node: info.node) { return [.nodeSelectorMismatch] }
        if let taint = untoleratedTaint(pod, node: info.node) {
            return [.untoleratedTaint(key: taint["key"]?.stringValue ?? "", value: taint["value"]?.stringValue ?? "")]
        }
        let resources = resourceFailures(pod: pod, on: info)
        if !resources.isEmpty { return resources }
        if violatesExistingAntiAffinity(pod, on: info, all: all) { return [.existingAntiAffinity] }
        if violatesAntiAffinity(pod, on: info, all: all) { return [.antiAffinity] }
        if !TopologySpread.satisfies(pod: pod, on: info, all: all) { return [.topologySpread] }
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
    static func resourceFailures(pod: JSONValue, on info: NodeInfo) -> [FilterFailure] {
        let allocatable = allocatable(info.node)
        var failures: [FilterFailure] = []
        let maxPods = allocatable["pods"] ?? 0
        if Int64(info.pods.count) + 1 > maxPods { failures.append(.tooManyPods) }
        let wanted = PodResources.requests(of: pod)
        guard !wanted.isEmpty else { return failures }
        var used: [String: Int64] = [:]
        for p in info.pods {
            for (name, amount) in PodResources.requests(of: p) { used[name, default: 0] += amount }
        }
        for name in wanted.keys.sorted() {
            guard let want = wanted[name], want > 0 else { continue }
            if want > (allocatable[name] ?? 0) - used[name, default: 0] { failures.append(.insufficient(name)) }
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
        let labels = node.labels
        for (key, value) in pod.stringMap(at: ["spec", "nodeSelector"]) where labels[key] != value { return false }
        guard let required = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]],
              !required.isNull else { return true }
        let terms = required["nodeSelectorTerms"]?.arrayValue ?? []
        return terms.contains { matches(term: $0, node: node) }
    }

    /// A node selector term: all its expressions and fields hold; an empty term matches nothing.
    static func matches(term: JSONValue, node: JSONValue) -> Bool {
        let expressions = term["matchExpressions"]?.arrayValue ?? []
        let fields = term["matchFields"]?.arrayValue ?? []
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        let labels = node.labels
        let nodeFields = ["metadata.name": node.name ?? ""]
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
    static func untoleratedTaint(_ pod: JSONValue, node: JSONValue) -> JSONValue? {
        (node[path: ["spec", "taints"]]?.arrayValue ?? []).first { taint in
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

    /// Nodes in the same topology domain as `info` for `key` (only itself for the hostname key
    /// or when it lacks the label).
    static func sameDomain(_ info: NodeInfo, key: String, all: [NodeInfo]) -> [NodeInfo] {
        guard let value = info.labels[key] else { return [] }
        return all.filter { $0.labels[key] == value || ($0.name == info.name && key == "kubernetes.io/hostname") }
    }

    /// The pod's own required anti-affinity: no selected pod may run in the node's domain.
    static func violatesAntiAffinity(_ pod: JSONValue, on info: NodeInfo, all: [NodeInfo]) -> Bool {
        let ns = pod.namespace ?? ""
        for t in antiAffinityTerms(pod) {
            guard let key = t["topologyKey"]?.stringValue, !key.isEmpty else { continue }
            // Kubernetes fills kubernetes.io/hostname itself; nodes created by hand may lack it.
            let domain = key == "kubernetes.io/hostname" && info.labels[key] == nil ? [info] : sameDomain(info, key: key, all: all)
            if domain.contains(where: { $0.pods.contains { $0.uid != pod.uid && term(t, ofPodIn: ns, selects: $0) } }) {
                return true
            }
        }
        return false
    }

    /// Pods already placed whose required anti-affinity selects the incoming pod keep it out of
    /// their domain.
    static func violatesExistingAntiAffinity(_ pod: JSONValue, on info: NodeInfo, all: [NodeInfo]) -> Bool {
        for other in all {
            for existing in other.pods where existing.uid != pod.uid {
                for t in antiAffinityTerms(existing) {
                    guard let key = t["topologyKey"]?.stringValue, !key.isEmpty,
                          term(t, ofPodIn: existing.namespace ?? "", selects: pod) else { continue }
                    let sameHost = other.name == info.name
                    let sameLabel = other.labels[key].map { $0 == info.labels[key] } ?? false
                    if sameHost && key == "kubernetes.io/hostname" || sameLabel { return true }
                }
            }
        }
        return false
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
