import KubeModel

/// `describe pod`, field for field as kubectl prints it.
enum PodDescriber {
    static func describe(_ pod: JSONValue, events: [JSONValue]) -> String {
        var w = DescribeWriter()
        let meta = pod["metadata"], spec = pod["spec"], status = pod["status"]
        w.write(0, "Name:\t\(meta?["name"]?.stringValue ?? "")\n")
        w.write(0, "Namespace:\t\(meta?["namespace"]?.stringValue ?? "")\n")
        if let p = spec?["priority"]?.intValue { w.write(0, "Priority:\t\(p)\n") }
        if let p = spec?["priorityClassName"]?.stringValue, !p.isEmpty { w.write(0, "Priority Class Name:\t\(p)\n") }
        if let r = spec?["runtimeClassName"]?.stringValue, !r.isEmpty { w.write(0, "Runtime Class Name:\t\(r)\n") }
        if let sa = spec?["serviceAccountName"]?.stringValue, !sa.isEmpty { w.write(0, "Service Account:\t\(sa)\n") }
        if let node = spec?["nodeName"]?.stringValue, !node.isEmpty {
            w.write(0, "Node:\t\(node)/\(status?["hostIP"]?.stringValue ?? "")\n")
        } else {
            w.write(0, "Node:\t<none>\n")
        }
        if let start = status?["startTime"]?.stringValue { w.write(0, "Start Time:\t\(DescribeWriter.rfc1123z(start))\n") }
        w.labels("Labels", meta?["labels"])
        w.annotations("Annotations", meta?["annotations"])
        let phase = status?["phase"]?.stringValue ?? ""
        if let deleted = meta?["deletionTimestamp"]?.stringValue, phase != "Failed" && phase != "Succeeded" {
            w.write(0, "Status:\tTerminating (lasts \(HumanDuration.since(deleted)))\n")
            w.write(0, "Termination Grace Period:\t\(meta?["deletionGracePeriodSeconds"]?.intValue ?? 0)s\n")
        } else {
            w.write(0, "Status:\t\(phase)\n")
        }
        if let r = status?["reason"]?.stringValue, !r.isEmpty { w.write(0, "Reason:\t\(r)\n") }
        if let m = status?["message"]?.stringValue, !m.isEmpty { w.write(0, "Message:\t\(m)\n") }
        w.write(0, "IP:\t\(status?["podIP"]?.stringValue ?? "")\n")
        let ips = status?["podIPs"]?.arrayValue ?? []
        if ips.isEmpty { w.write(0, "IPs:\t<none>\n") } else {
            w.write(0, "IPs:\n")
            for ip in ips { w.write(0, "  IP:\t\(ip["ip"]?.stringValue ?? "")\n") }
        }
        if let owner = (meta?["ownerReferences"]?.arrayValue ?? []).first(where: { $0["controller"]?.boolValue == true }) {
            w.write(0, "Controlled By:\t\(owner["kind"]?.stringValue ?? "")/\(owner["name"]?.stringValue ?? "")\n")
        }
        if let n = status?["nominatedNodeName"]?.stringValue, !n.isEmpty { w.write(0, "NominatedNodeName:\t\(n)\n") }
        if let inits = spec?["initContainers"]?.arrayValue, !inits.isEmpty {
            w.containers("Init Containers", inits, statuses: status?["initContainerStatuses"]?.arrayValue ?? [], space: "")
        }
        w.containers("Containers", spec?["containers"]?.arrayValue ?? [], statuses: status?["containerStatuses"]?.arrayValue ?? [], space: "")
        if let gates = spec?["readinessGates"]?.arrayValue, !gates.isEmpty {
            w.write(0, "Readiness Gates:\n  Type\tStatus\n")
            for g in gates {
                let type = g["conditionType"]?.stringValue ?? ""
                let c = (status?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
                w.write(1, "\(type) \t\(c?["status"]?.stringValue ?? "<none>") \n")
            }
        }
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write(0, "Conditions:\n  Type\tStatus\n")
            for c in conditions { w.write(1, "\(c["type"]?.stringValue ?? "") \t\(c["status"]?.stringValue ?? "") \n") }
        }
        w.volumes(spec?["volumes"]?.arrayValue ?? [], space: "")
        w.write(0, "QoS Class:\t\(status?["qosClass"]?.stringValue ?? qosClass(spec))\n")
        w.labels("Node-Selectors", spec?["nodeSelector"])
        w.tolerations("Tolerations", spec?["tolerations"])
        w.events(events)
        return w.text
    }

    /// Kubernetes' QoS class when the status does not carry one.
    static func qosClass(_ spec: JSONValue?) -> String {
        let containers = (spec?["containers"]?.arrayValue ?? []) + (spec?["initContainers"]?.arrayValue ?? [])
        var any = false, guaranteed = true
        for c in containers {
            let req = c["resources"]?["requests"]?.objectValue ?? [:], lim = c["resources"]?["limits"]?.objectValue ?? [:]
            if !req.isEmpty || !lim.isEmpty { any = true }
            for r in ["cpu", "memory"] {
                guard let l = lim[r] else { guaranteed = false; continue }
                if let q = req[r], q != l { guaranteed = false }
            }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
