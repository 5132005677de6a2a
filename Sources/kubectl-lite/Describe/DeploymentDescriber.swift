import KubeModel

/// `describe deployment`, with its pod template and replica sets.
enum DeploymentDescriber {
    static func describe(_ d: JSONValue, replicaSets: [JSONValue], events: [JSONValue]) -> String {
        var w = DescribeWriter()
        let meta = d["metadata"], spec = d["spec"], status = d["status"]
        w.write(0, "Name:\t\(meta?["name"]?.stringValue ?? "")\n")
        w.write(0, "Namespace:\t\(meta?["namespace"]?.stringValue ?? "")\n")
        w.write(0, "CreationTimestamp:\t\(DescribeWriter.rfc1123z(meta?["creationTimestamp"]?.stringValue))\n")
        w.labels("Labels", meta?["labels"])
        w.annotations("Annotations", meta?["annotations"])
        w.write(0, "Selector:\t\(selectorText(spec?["selector"]))\n")
        let n = { (k: String) in status?[k]?.intValue ?? 0 }
        w.write(0, "Replicas:\t\(spec?["replicas"]?.intValue ?? 1) desired | \(n("updatedReplicas")) updated | \(n("replicas")) total | \(n("availableReplicas")) available | \(n("unavailableReplicas")) unavailable\n")
        w.write(0, "StrategyType:\t\(spec?["strategy"]?["type"]?.stringValue ?? "")\n")
        w.write(0, "MinReadySeconds:\t\(spec?["minReadySeconds"]?.intValue ?? 0)\n")
        if let ru = spec?["strategy"]?["rollingUpdate"], ru.objectValue != nil {
            w.write(0, "RollingUpdateStrategy:\t\(intOrString(ru["maxUnavailable"])) max unavailable, \(intOrString(ru["maxSurge"])) max surge\n")
        }
        podTemplate(&w, spec?["template"])
        if let conditions = status?["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
            w.write(1, "----\t------\t------\n")
            for c in conditions {
                w.write(1, "\(c["type"]?.stringValue ?? "") \t\(c["status"]?.stringValue ?? "")\t\(c["reason"]?.stringValue ?? "")\n")
            }
        }
        let owned = replicaSets.filter { rs in
            (rs["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains { $0["uid"] == meta?["uid"] && $0["controller"]?.boolValue == true }
        }
        let template = stripHash(spec?["template"])
        let newRS = owned.filter { JSONPatch.jsonEqual(stripHash($0["spec"]?["template"]), template) }
            .min { ($0["metadata"]?["creationTimestamp"]?.stringValue ?? "") < ($1["metadata"]?["creationTimestamp"]?.stringValue ?? "") }
        let old = owned.filter { $0["metadata"]?["uid"] != newRS?["metadata"]?["uid"] && ($0["spec"]?["replicas"]?.intValue ?? 0) != 0 }
        w.write(0, "OldReplicaSets:\t\(replicaSetList(old))\n")
        w.write(0, "NewReplicaSet:\t\(replicaSetList(newRS.map { [$0] } ?? []))\n")
        w.events(events)
        return w.text
    }

    static func podTemplate(_ w: inout DescribeWriter, _ template: JSONValue?) {
        w.write(0, "Pod Template:\n")
        guard let template else { w.write(1, "<unset>"); return }
        w.labels("  Labels", template["metadata"]?["labels"])
        if let a = template["metadata"]?["annotations"]?.objectValue, !a.isEmpty {
            w.annotations("  Annotations", template["metadata"]?["annotations"])
        }
        let spec = template["spec"]
        if let sa = spec?["serviceAccountName"]?.stringValue, !sa.isEmpty { w.write(1, "Service Account:\t\(sa)\n") }
        if let inits = spec?["initContainers"]?.arrayValue, !inits.isEmpty {
            w.containers("Init Containers", inits, statuses: nil, space: "  ")
        }
        w.containers("Containers", spec?["containers"]?.arrayValue ?? [], statuses: nil, space: "  ")
        w.volumes(spec?["volumes"]?.arrayValue ?? [], space: "  ")
        if let p = spec?["priorityClassName"]?.stringValue, !p.isEmpty { w.write(1, "Priority Class Name:\t\(p)\n") }
        w.labels("  Node-Selectors", spec?["nodeSelector"])
        w.tolerations("  Tolerations", spec?["tolerations"])
    }

    static func replicaSetList(_ sets: [JSONValue]) -> String {
        if sets.isEmpty { return "<none>" }
        return sets.map {
            "\($0["metadata"]?["name"]?.stringValue ?? "") (\($0["status"]?["replicas"]?.intValue ?? 0)/\($0["spec"]?["replicas"]?.intValue ?? 0) replicas created)"
        }.joined(separator: ", ")
    }

    /// A LabelSelector as `k=v,k2 in (a,b)`, like `metav1.LabelSelectorAsSelector(...).String()`.
    static func selectorText(_ s: JSONValue?) -> String {
        var parts: [(String, String)] = []
        for (k, v) in s?["matchLabels"]?.objectValue ?? [:] { parts.append((k, "\(k)=\(v.stringValue ?? "")")) }
        for e in s?["matchExpressions"]?.arrayValue ?? [] {
            let k = e["key"]?.stringValue ?? ""
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch e["operator"]?.stringValue ?? "" {
            case "In": parts.append((k, "\(k) in (\(values))"))
            case "NotIn": parts.append((k, "\(k) notin (\(values))"))
            case "Exists": parts.append((k, k))
            case "DoesNotExist": parts.append((k, "!\(k)"))
            default: break
            }
        }
        if parts.isEmpty { return "" }
        return parts.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ",")
    }

    static func intOrString(_ v: JSONValue?) -> String {
        guard let v else { return "" }
        return v.stringValue ?? ServerTable.cellText(v)
    }

    /// A pod template without the `pod-template-hash` label (how a ReplicaSet's template is matched).
    static func stripHash(_ t: JSONValue?) -> JSONValue {
        guard case .object(var o)? = t else { return t ?? .null }
        if case .object(var m)? = o["metadata"], case .object(var l)? = m["labels"] {
            l["pod-template-hash"] = nil
            m["labels"] = .object(l)
            o["metadata"] = .object(m)
        }
        return .object(o)
    }
}
