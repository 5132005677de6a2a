import KubeModel

/// `describe node`: conditions, addresses, capacity, system info, its non-terminated pods
/// and what they request.
enum NodeDescriber {
    static func describe(_ node: JSONValue, pods: [JSONValue], lease: JSONValue?, events: [JSONValue]) -> String {
        var w = DescribeWriter()
        let meta = node["metadata"], spec = node["spec"], status = node["status"]
        w.write(0, "Name:\t\(meta?["name"]?.stringValue ?? "")\n")
        let roles = (meta?["labels"]?.objectValue ?? [:]).keys.compactMap { key -> String? in
            if key.hasPrefix("node-role.kubernetes.io/") { return String(key.dropFirst("node-role.kubernetes.io/".count)) }
            if key == "kubernetes.io/role" { return meta?["labels"]?[key]?.stringValue }
            return nil
        }.filter { !$0.isEmpty }.sorted()
        w.write(0, "Roles:\t\(roles.isEmpty ? "<none>" : roles.joined(separator: ","))\n")
        w.labels("Labels", meta?["labels"])
        w.annotations("Annotations", meta?["annotations"])
        w.write(0, "CreationTimestamp:\t\(DescribeWriter.rfc1123z(meta?["creationTimestamp"]?.stringValue))\n")
        taints(&w, spec?["taints"]?.arrayValue ?? [])
        w.write(0, "Unschedulable:\t\(spec?["unschedulable"]?.boolValue ?? false)\n")
        if let lease {
            w.write(0, "Lease:\n")
            w.write(1, "HolderIdentity:\t\(lease["spec"]?["holderIdentity"]?.stringValue ?? "<unset>")\n")
            w.write(1, "AcquireTime:\t\(lease["spec"]?["acquireTime"]?.stringValue.map { DescribeWriter.rfc1123z($0) } ?? "<unset>")\n")
            w.write(1, "RenewTime:\t\(lease["spec"]?["renewTime"]?.stringValue.map { DescribeWriter.rfc1123z($0) } ?? "<unset>")\n")
        }
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
            w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
            for c in conditions {
                let s = { (k: String) in c[k]?.stringValue ?? "" }
                w.write(1, "\(s("type")) \t\(s("status")) \t\(DescribeWriter.rfc1123z(s("lastHeartbeatTime"))) \t\(DescribeWriter.rfc1123z(s("lastTransitionTime"))) \t\(s("reason")) \t\(s("message"))\n")
            }
        }
        w.write(0, "Addresses:\n")
        for a in status?["addresses"]?.arrayValue ?? [] {
            w.write(1, "\(a["type"]?.stringValue ?? ""):\t\(a["address"]?.stringValue ?? "")\n")
        }
        for (key, title) in [("capacity", "Capacity"), ("allocatable", "Allocatable")] {
            guard let list = status?[key]?.objectValue, !list.isEmpty else { continue }
            w.write(0, "\(title):\n")
            for name in list.keys.sorted() { w.write(0, "  \(name):\t\(canonical(list[name]))\n") }
        }
        let info = status?["nodeInfo"]
        let field = { (k: String) in info?[k]?.stringValue ?? "" }
        w.write(0, "System Info:\n")
        for (title, key) in [("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                             ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
                             ("Architecture", "architecture"), ("Container Runtime Version", "containerRuntimeVersion"),
                             ("Kubelet Version", "kubeletVersion")] {
            w.write(0, "  \(title):\t\(field(key))\n")
        }
        w.write(0, "  Kube-Proxy Version:\t\(field("kubeProxyVersion"))\n")
        if let cidr = spec?["podCIDR"]?.stringValue, !cidr.isEmpty { w.write(0, "PodCIDR:\t\(cidr)\n") }
        if let cidrs = spec?["podCIDRs"]?.arrayValue, !cidrs.isEmpty {
            w.write(0, "PodCIDRs:\t\(cidrs.compactMap(\.stringValue).joined(separator: ","))\n")
        }
        if let p = spec?["providerID"]?.stringValue, !p.isEmpty { w.write(0, "ProviderID:\t\(p)\n") }
        podResources(&w, node, pods)
        w.events(events)
        return w.text
    }

    private static func canonical(_ v: JSONValue?) -> String {
        guard let s = v?.stringValue else { return "" }
        return Quantity.parse(s)?.canonical ?? s
    }

    private static func taints(_ w: inout DescribeWriter, _ taints: [JSONValue]) {
        w.write(0, "Taints:\t")
        if taints.isEmpty { w.write(0, "<none>\n"); return }
        for (i, t) in taints.enumerated() {
            if i != 0 { w.write(0, "\t") }
            let value = t["value"]?.stringValue ?? ""
            w.write(0, "\(t["key"]?.stringValue ?? "")\(value.isEmpty ? "" : "=" + value):\(t["effect"]?.stringValue ?? "")\n")
        }
    }

    /// Requests and limits of one pod: the sum over containers, at least each init container's.
    static func requestsAndLimits(_ pod: JSONValue) -> (requests: [String: Quantity], limits: [String: Quantity]) {
        func total(_ key: String) -> [String: Quantity] {
            var sum: [String: Quantity] = [:]
            for c in pod["spec"]?["containers"]?.arrayValue ?? [] {
                for (name, v) in c["resources"]?[key]?.objectValue ?? [:] {
                    guard let q = v.stringValue.flatMap(Quantity.parse) else { continue }
                    sum[name] = sum[name].map { add($0, q) } ?? q
                }
            }
            for c in pod["spec"]?["initContainers"]?.arrayValue ?? [] {
                for (name, v) in c["resources"]?[key]?.objectValue ?? [:] {
                    guard let q = v.stringValue.flatMap(Quantity.parse) else { continue }
                    if (sum[name]?.milliValue ?? 0) < q.milliValue { sum[name] = q }
                }
            }
            return sum
        }
        return (total("requests"), total("limits"))
    }

    static func add(_ a: Quantity, _ b: Quantity) -> Quantity {
        Quantity(mantissa: a.milliValue + b.milliValue, scale: -3, format: a.format)
    }

    static func text(_ q: Quantity?) -> String { q.map { Quantity.parse($0.canonical)?.canonical ?? $0.canonical } ?? "0" }

    private static func percent(_ q: Quantity?, of total: Quantity?, milli: Bool) -> Int64 {
        guard let total else { return 0 }
        let t = milli ? total.milliValue : total.value
        guard t != 0 else { return 0 }
        let v = milli ? (q?.milliValue ?? 0) : (q?.value ?? 0)
        return Int64(Double(v) / Double(t) * 100)
    }

    private static func podResources(_ w: inout DescribeWriter, _ node: JSONValue, _ pods: [JSONValue]) {
        var allocatable = node["status"]?["capacity"]?.objectValue ?? [:]
        if let a = node["status"]?["allocatable"]?.objectValue, !a.isEmpty { allocatable = a }
        let cpuTotal = allocatable["cpu"]?.stringValue.flatMap(Quantity.parse)
        let memTotal = allocatable["memory"]?.stringValue.flatMap(Quantity.parse)
        let ephTotal = allocatable["ephemeral-storage"]?.stringValue.flatMap(Quantity.parse)
        w.write(0, "Non-terminated Pods:\t(\(pods.count) in total)\n")
        w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
        w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
        var reqs: [String: Quantity] = [:], lims: [String: Quantity] = [:]
        for pod in pods {
            let (r, l) = requestsAndLimits(pod)
            for (k, v) in r { reqs[k] = reqs[k].map { add($0, v) } ?? v }
            for (k, v) in l { lims[k] = lims[k].map { add($0, v) } ?? v }
            let m = pod["metadata"]
            w.write(1, "\(m?["namespace"]?.stringValue ?? "")\t\(m?["name"]?.stringValue ?? "")\t\t" +
                "\(text(r["cpu"])) (\(percent(r["cpu"], of: cpuTotal, milli: true))%)\t\(text(l["cpu"])) (\(percent(l["cpu"], of: cpuTotal, milli: true))%)\t" +
                "\(text(r["memory"])) (\(percent(r["memory"], of: memTotal, milli: false))%)\t\(text(l["memory"])) (\(percent(l["memory"], of: memTotal, milli: false))%)\t" +
                "\(HumanDuration.since(m?["creationTimestamp"]?.stringValue))\n")
        }
        w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
        w.write(1, "Resource\tRequests\tLimits\n")
        w.write(1, "--------\t--------\t------\n")
        for (name, total, milli) in [("cpu", cpuTotal, true), ("memory", memTotal, false), ("ephemeral-storage", ephTotal, false)] {
            w.write(1, "\(name)\t\(text(reqs[name])) (\(percent(reqs[name], of: total, milli: milli))%)\t\(text(lims[name])) (\(percent(lims[name], of: total, milli: milli))%)\n")
        }
    }
}
