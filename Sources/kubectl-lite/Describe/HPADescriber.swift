import KubeModel

/// `describe hpa` (autoscaling/v2).
enum HPADescriber {
    static func describe(_ h: JSONValue, events: [JSONValue]) -> String {
        var w = DescribeWriter()
        let meta = h["metadata"], spec = h["spec"], status = h["status"]
        w.write(0, "Name:\t\(meta?["name"]?.stringValue ?? "")\n")
        w.write(0, "Namespace:\t\(meta?["namespace"]?.stringValue ?? "")\n")
        w.labels("Labels", meta?["labels"])
        w.annotations("Annotations", meta?["annotations"])
        w.write(0, "CreationTimestamp:\t\(DescribeWriter.rfc1123z(meta?["creationTimestamp"]?.stringValue))\n")
        let ref = spec?["scaleTargetRef"]
        w.write(0, "Reference:\t\(ref?["kind"]?.stringValue ?? "")/\(ref?["name"]?.stringValue ?? "")\n")
        w.write(0, "Metrics:\t( current / target )\n")
        let current = status?["currentMetrics"]?.arrayValue ?? []
        for (i, m) in (spec?["metrics"]?.arrayValue ?? []).enumerated() {
            guard m["type"]?.stringValue == "Resource", let r = m["resource"] else {
                w.write(1, "\(m["type"]?.stringValue ?? "") metric:\t<unsupported> / <unsupported>\n")
                continue
            }
            let name = r["name"]?.stringValue ?? ""
            let cur = i < current.count ? current[i]["resource"]?["current"] : nil
            if let avg = r["target"]?["averageValue"] {
                let c = cur?["averageValue"].map { DeploymentDescriber.intOrString($0) } ?? "<unknown>"
                w.write(1, "resource \(name) on pods:\t\(c) / \(DeploymentDescriber.intOrString(avg))\n")
            } else {
                var c = "<unknown>"
                if let u = cur?["averageUtilization"]?.intValue {
                    c = "\(u)% (\(cur?["averageValue"].map { DeploymentDescriber.intOrString($0) } ?? "0"))"
                }
                let target = r["target"]?["averageUtilization"]?.intValue.map { "\($0)%" } ?? "<auto>"
                w.write(1, "resource \(name) on pods  (as a percentage of request):\t\(c) / \(target)\n")
            }
        }
        w.write(0, "Min replicas:\t\(spec?["minReplicas"]?.intValue.map(String.init) ?? "<unset>")\n")
        w.write(0, "Max replicas:\t\(spec?["maxReplicas"]?.intValue ?? 0)\n")
        if let b = spec?["behavior"], b.objectValue != nil {
            w.write(0, "Behavior:\n")
            direction(&w, "Scale Up", b["scaleUp"])
            direction(&w, "Scale Down", b["scaleDown"])
        }
        w.write(0, "\(ref?["kind"]?.stringValue ?? "") pods:\t")
        w.write(0, "\(status?["currentReplicas"]?.intValue ?? 0) current / \(status?["desiredReplicas"]?.intValue ?? 0) desired\n")
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write(0, "Conditions:\n")
            w.write(1, "Type\tStatus\tReason\tMessage\n")
            w.write(1, "----\t------\t------\t-------\n")
            for c in conditions {
                w.write(1, "\(c["type"]?.stringValue ?? "")\t\(c["status"]?.stringValue ?? "")\t\(c["reason"]?.stringValue ?? "")\t\(c["message"]?.stringValue ?? "")\n")
            }
        }
        w.events(events)
        return w.text
    }

    private static func direction(_ w: inout DescribeWriter, _ name: String, _ b: JSONValue?) {
        guard let b, b.objectValue != nil else { return }
        w.write(1, "\(name):\n")
        if let s = b["stabilizationWindowSeconds"]?.intValue { w.write(2, "Stabilization Window: \(s) seconds\n") }
        if let policies = b["policies"]?.arrayValue, !policies.isEmpty {
            w.write(2, "Select Policy: \(b["selectPolicy"]?.stringValue ?? "")\n")
            w.write(2, "Policies:\n")
            for p in policies {
                w.write(3, "- Type: \(p["type"]?.stringValue ?? "")\tValue: \(p["value"]?.intValue ?? 0)\tPeriod: \(p["periodSeconds"]?.intValue ?? 0) seconds\n")
            }
        }
    }
}
