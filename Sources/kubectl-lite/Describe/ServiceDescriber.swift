import KubeModel

/// `describe service`, with endpoints from its EndpointSlices.
enum ServiceDescriber {
    static func describe(_ s: JSONValue, slices: [JSONValue], events: [JSONValue]) -> String {
        var w = DescribeWriter()
        let meta = s["metadata"], spec = s["spec"]
        w.write(0, "Name:\t\(meta?["name"]?.stringValue ?? "")\n")
        w.write(0, "Namespace:\t\(meta?["namespace"]?.stringValue ?? "")\n")
        w.labels("Labels", meta?["labels"])
        w.annotations("Annotations", meta?["annotations"])
        let selector = spec?["selector"]?.objectValue ?? [:]
        w.write(0, "Selector:\t\(selector.isEmpty ? "<none>" : selector.keys.sorted().map { "\($0)=\(selector[$0]?.stringValue ?? "")" }.joined(separator: ","))\n")
        w.write(0, "Type:\t\(spec?["type"]?.stringValue ?? "")\n")
        if let p = spec?["ipFamilyPolicy"]?.stringValue { w.write(0, "IP Family Policy:\t\(p)\n") }
        let families = (spec?["ipFamilies"]?.arrayValue ?? []).compactMap(\.stringValue)
        w.write(0, "IP Families:\t\(families.isEmpty ? "<none>" : families.joined(separator: ","))\n")
        w.write(0, "IP:\t\(spec?["clusterIP"]?.stringValue ?? "")\n")
        let ips = (spec?["clusterIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        w.write(0, "IPs:\t\(ips.isEmpty ? "<none>" : ips.joined(separator: ","))\n")
        if let ext = spec?["externalIPs"]?.arrayValue, !ext.isEmpty {
            w.write(0, "External IPs:\t\(ext.compactMap(\.stringValue).joined(separator: ","))\n")
        }
        if let lb = spec?["loadBalancerIP"]?.stringValue, !lb.isEmpty { w.write(0, "IP:\t\(lb)\n") }
        if let name = spec?["externalName"]?.stringValue, !name.isEmpty { w.write(0, "External Name:\t\(name)\n") }
        for p in spec?["ports"]?.arrayValue ?? [] {
            let name = p["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "<unset>"
            let proto = p["protocol"]?.stringValue ?? "TCP"
            w.write(0, "Port:\t\(name)\t\(p["port"]?.intValue ?? 0)/\(proto)\n")
            w.write(0, "TargetPort:\t\(DeploymentDescriber.intOrString(p["targetPort"]))/\(proto)\n")
            if let np = p["nodePort"]?.intValue, np != 0 { w.write(0, "NodePort:\t\(name)\t\(np)/\(proto)\n") }
            w.write(0, "Endpoints:\t\(endpoints(slices, portName: p["name"]?.stringValue ?? ""))\n")
        }
        w.write(0, "Session Affinity:\t\(spec?["sessionAffinity"]?.stringValue ?? "")\n")
        if let p = spec?["externalTrafficPolicy"]?.stringValue, !p.isEmpty { w.write(0, "External Traffic Policy:\t\(p)\n") }
        if let p = spec?["internalTrafficPolicy"]?.stringValue { w.write(0, "Internal Traffic Policy:\t\(p)\n") }
        if let hc = spec?["healthCheckNodePort"]?.intValue, hc != 0 { w.write(0, "HealthCheck NodePort:\t\(hc)\n") }
        if let td = spec?["trafficDistribution"]?.stringValue { w.write(0, "Traffic Distribution:\t\(td)\n") }
        w.events(events)
        return w.text
    }

    /// `ip:port,ip:port + N more...` over ready endpoints of the named port; `<none>` if none.
    static func endpoints(_ slices: [JSONValue], portName: String) -> String {
        var list: [String] = []
        var total = 0
        for slice in slices {
            for port in slice["ports"]?.arrayValue ?? [] where (port["name"]?.stringValue ?? "") == portName {
                for e in slice["endpoints"]?.arrayValue ?? [] where e["conditions"]?["ready"]?.boolValue != false {
                    for a in e["addresses"]?.arrayValue ?? [] {
                        total += 1
                        if list.count < 3 { list.append("\(a.stringValue ?? ""):\(port["port"]?.intValue ?? 0)") }
                    }
                }
            }
        }
        if list.isEmpty { return "<none>" }
        return list.joined(separator: ",") + (total > 3 ? " + \(total - 3) more..." : "")
    }
}
