/// How objects count against a ResourceQuota, shared by the API server's quota admission and
/// the controller that keeps `status.used` current, so both agree on every number.
public enum ResourceQuotaUsage {
    /// Compute resources a container must name when a quota limits them (Kubernetes' historic
    /// rule: quota on cpu or memory requires every container to request them explicitly).
    public static let computeNames: Set<String> = ["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]
    /// Requests that also count under their bare name (`cpu` as well as `requests.cpu`).
    static let standardResources: Set<String> = ["cpu", "memory", "ephemeral-storage"]
    /// Legacy object-count names of the core group.
    static let legacyCounts: Set<String> = ["pods", "services", "secrets", "configmaps", "persistentvolumeclaims",
                                            "replicationcontrollers", "resourcequotas"]

    /// A JSON quantity (string or number) parsed.
    public static func quantity(_ v: JSONValue?) -> Quantity? {
        guard let v else { return nil }
        if let s = v.stringValue { return Quantity.parse(s) }
        if let i = v.intValue { return Quantity(mantissa: i) }
        if let d = v.doubleValue { return Quantity.parse(String(d)) }
        return nil
    }

    /// A ResourceList (`{"cpu": "1"}`) parsed; unparseable entries are skipped.
    public static func resourceList(_ v: JSONValue?) -> [String: Quantity] {
        var out: [String: Quantity] = [:]
        for (k, x) in v?.objectValue ?? [:] { if let q = quantity(x) { out[k] = q } }
        return out
    }

    /// The list as JSON, quantities in canonical form.
    public static func json(_ list: [String: Quantity]) -> JSONValue {
        .object(list.mapValues { .string($0.canonical) })
    }

    /// `a=1,b=2`, sorted, as quota messages print resource lists.
    public static func pretty(_ list: [String: Quantity]) -> String {
        list.keys.sorted().map { "\($0)=\(list[$0]?.canonical ?? "0")" }.joined(separator: ",")
    }

    public static func add(_ a: inout [String: Quantity], _ b: [String: Quantity]) {
        for (k, q) in b { a[k] = (a[k] ?? Quantity(mantissa: 0)) + q }
    }

    // MARK: - what an object uses

    /// The collection (group, plural) whose objects a quota resource name counts, or nil for
    /// names this server does not count.
    public static func collection(for resourceName: String) -> (group: String, plural: String)? {
        if resourceName == "requests.storage" || resourceName.hasSuffix(storageClassSuffix + "requests.storage")
            || resourceName.hasSuffix(storageClassSuffix + "persistentvolumeclaims") { return ("", "persistentvolumeclaims") }
        if resourceName.hasPrefix("count/") {
            let rest = resourceName.dropFirst("count/".count)
            guard let dot = rest.firstIndex(of: ".") else { return ("", String(rest)) }
            return (String(rest[rest.index(after: dot)...]), String(rest[..<dot]))
        }
        if computeNames.contains(resourceName) || resourceName.hasPrefix("requests.") || resourceName.hasPrefix("limits.")
            || standardResources.contains(resourceName) { return ("", "pods") }
        if resourceName == "services.loadbalancers" || resourceName == "services.nodeports" { return ("", "services") }
        if legacyCounts.contains(resourceName) { return ("", resourceName) }
        return nil
    }

    /// Per-class claim names: `<class>.storageclass.storage.k8s.io/requests.storage`.
    static let storageClassSuffix = ".storageclass.storage.k8s.io/"

    /// Whether a quota resource name counts objects (so its quantities are whole numbers).
    public static func isObjectCount(_ resourceName: String) -> Bool {
        resourceName.hasPrefix("count/") || legacyCounts.contains(resourceName) || resourceName.hasPrefix("services.")
            || resourceName.hasSuffix(storageClassSuffix + "persistentvolumeclaims")
    }

    /// Succeeded and Failed pods no longer count.
    public static func isTerminal(_ pod: JSONValue) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    /// Everything an object of `group`/`plural` uses, by quota resource name.
    public static func usage(group: String, plural: String, object: JSONValue) -> [String: Quantity] {
        let one = Quantity(mantissa: 1)
        var out: [String: Quantity] = ["count/" + (group.isEmpty ? plural : "\(plural).\(group)"): one]
        if group.isEmpty && legacyCounts.contains(plural) { out[plural] = one }
        if group.isEmpty && plural == "pods" {
            if isTerminal(object) { return [:] }
            add(&out, podCompute(object["spec"] ?? .null))
        }
        if group.isEmpty && plural == "persistentvolumeclaims" {
            let storage = quantity(object[path: ["spec", "resources", "requests", "storage"]]) ?? Quantity(mantissa: 0)
            out["requests.storage"] = storage
            let className = StorageClassName.of(object)
            if !className.isEmpty {
                out[className + storageClassSuffix + "requests.storage"] = storage
                out[className + storageClassSuffix + "persistentvolumeclaims"] = one
            }
        }
        if group.isEmpty && plural == "services" {
            let type = object[path: ["spec", "type"]]?.stringValue ?? "ClusterIP"
            if type == "LoadBalancer" { out["services.loadbalancers"] = one }
            if type == "LoadBalancer" || type == "NodePort" {
                out["services.nodeports"] = Quantity(mantissa: Int64(object[path: ["spec", "ports"]]?.arrayValue?.count ?? 0))
            }
        }
        return out
    }

    /// A pod's requests and limits: containers summed, each init container's as a floor (they
    /// run one at a time before the others), plus the pod overhead.
    static func podCompute(_ spec: JSONValue) -> [String: Quantity] {
        var requests: [String: Quantity] = [:]
        var limits: [String: Quantity] = [:]
        for c in spec["containers"]?.arrayValue ?? [] {
            add(&requests, resourceList(c[path: ["resources", "requests"]]))
            add(&limits, resourceList(c[path: ["resources", "limits"]]))
        }
        for c in spec["initContainers"]?.arrayValue ?? [] {
            for (k, q) in resourceList(c[path: ["resources", "requests"]]) where requests[k].map({ $0 < q }) ?? true { requests[k] = q }
            for (k, q) in resourceList(c[path: ["resources", "limits"]]) where limits[k].map({ $0 < q }) ?? true { limits[k] = q }
        }
        let overhead = resourceList(spec["overhead"])
        if !overhead.isEmpty {
            add(&requests, overhead)
            for (k, q) in overhead where limits[k] != nil { limits[k] = (limits[k] ?? q) + q }
        }
        return computeNames(requests: requests, limits: limits)
    }

    /// Requests under `requests.X` (and bare `X` for cpu, memory, ephemeral-storage), limits
    /// under `limits.X`.
    static func computeNames(requests: [String: Quantity], limits: [String: Quantity]) -> [String: Quantity] {
        var out: [String: Quantity] = [:]
        for (k, q) in requests {
            out["requests." + k] = q
            if standardResources.contains(k) { out[k] = q }
        }
        for (k, q) in limits { out["limits." + k] = q }
        return out
    }

    /// `must specify limits.cpu for: a,b; requests.memory for: a` when a quota limits compute
    /// resources (`required`) that some container leaves out; nil when every one names them.
    public static func missingCompute(_ pod: JSONValue, required: Set<String>) -> String? {
        let needed = required.intersection(computeNames)
        guard !needed.isEmpty else { return nil }
        var missing: [String: [String]] = [:]
        for key in ["initContainers", "containers"] {
            for c in pod[path: ["spec", key]]?.arrayValue ?? [] {
                let has = Set(computeNames(requests: resourceList(c[path: ["resources", "requests"]]),
                                           limits: resourceList(c[path: ["resources", "limits"]])).keys)
                for r in needed.subtracting(has) { missing[r, default: []].append(c["name"]?.stringValue ?? "") }
            }
        }
        guard !missing.isEmpty else { return nil }
        let parts = missing.map { "\($0.key) for: \(Array(Set($0.value)).sorted().joined(separator: ","))" }.sorted()
        return "must specify " + parts.joined(separator: "; ")
    }

    // MARK: - scopes

    /// Whether a quota with `spec` applies to the object. Scoped quotas apply only to pods.
    public static func matchesScopes(_ spec: JSONValue, object: JSONValue, isPod: Bool) -> Bool {
        let scopes = (spec["scopes"]?.arrayValue ?? []).compactMap(\.stringValue)
        let selector = spec[path: ["scopeSelector", "matchExpressions"]]?.arrayValue ?? []
        if scopes.isEmpty && selector.isEmpty { return true }
        guard isPod else { return false }
        for s in scopes where !podMatches(scope: s, operator: "Exists", values: [], pod: object) { return false }
        for e in selector {
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !podMatches(scope: e["scopeName"]?.stringValue ?? "", operator: e["operator"]?.stringValue ?? "", values: values, pod: object) {
                return false
            }
        }
        return true
    }

    static func podMatches(scope: String, operator op: String, values: [String], pod: JSONValue) -> Bool {
        let spec = pod["spec"] ?? .null
        switch scope {
        case "Terminating", "NotTerminating":
            let terminating = (spec["activeDeadlineSeconds"]?.intValue).map { $0 >= 0 } ?? false
            return (scope == "Terminating") == terminating
        case "BestEffort", "NotBestEffort":
            let bestEffort = podCompute(spec).isEmpty
            return (scope == "BestEffort") == bestEffort
        case "PriorityClass":
            let pc = spec["priorityClassName"]?.stringValue ?? ""
            switch op {
            case "In": return values.contains(pc)
            case "NotIn": return !values.contains(pc)
            case "Exists": return !pc.isEmpty
            case "DoesNotExist": return pc.isEmpty
            default: return false
            }
        default:
            return false
        }
    }
}

extension Quantity {
    /// Exact sum when the aligned mantissas fit, otherwise rounded up at a coarser scale.
    public static func + (a: Quantity, b: Quantity) -> Quantity {
        if a.isZero { return b }
        if b.isZero { return a }
        var s = min(a.scale, b.scale)
        while s < 64 {
            if let x = a.mantissa(atScale: s), let y = b.mantissa(atScale: s) {
                let (r, o) = x.addingReportingOverflow(y)
                if !o { return Quantity(mantissa: r, scale: s, format: a.format) }
            }
            s += 1
        }
        return Quantity(mantissa: Int64.max, scale: s, format: a.format)
    }

    /// The mantissa expressed at scale `s`: exact below the own scale (nil on overflow),
    /// rounded away from zero above it.
    func mantissa(atScale s: Int32) -> Int64? {
        var m = mantissa
        if s <= scale {
            for _ in 0..<(scale - s) {
                let (r, o) = m.multipliedReportingOverflow(by: 10)
                if o { return nil }
                m = r
            }
            return m
        }
        var rem = false
        for _ in 0..<(s - scale) {
            if m % 10 != 0 { rem = true }
            m /= 10
        }
        return rem ? m + mantissa.signum() : m
    }
}
