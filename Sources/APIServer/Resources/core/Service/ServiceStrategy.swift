import Foundation
import KubeModel

/// core/v1 Service: defaults, port validation, cluster IP / node port immutability, kubectl's
/// table. Allocation itself is the registry's (`Allocation/ServiceAllocations.swift`).
public struct ServiceStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Service", plural: "services", shortNames: ["svc"], namespaced: true,
        categories: ["all"], subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.Service"])

    /// Service names become DNS labels that must start with a letter.
    public var nameRule: NameRule { .dns1035Label }

    static let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]

    /// `SetDefaults_Service`, plus the IP-family fields the REST layer fills in.
    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "type", "ClusterIP")
        K.fill(&spec, "sessionAffinity", "None")
        let type = K.string(spec["type"])
        if K.string(spec["sessionAffinity"]) == "ClientIP" {
            K.fill(&spec, "sessionAffinityConfig", .object([:]))
            K.withChild(&spec, "sessionAffinityConfig") { c in
                K.fill(&c, "clientIP", .object([:]))
                K.withChild(&c, "clientIP") { K.fill(&$0, "timeoutSeconds", 10800) }
            }
        }
        K.eachElement(&spec, "ports") { p in
            K.fill(&p, "protocol", "TCP")
            let tp = p["targetPort"]
            if tp == nil || tp?.isNull == true || tp?.intValue == 0 || tp?.stringValue == "" { p["targetPort"] = p["port"] }
        }
        if type == "NodePort" || type == "LoadBalancer" { K.fill(&spec, "externalTrafficPolicy", "Cluster") }
        if type == "LoadBalancer" { K.fill(&spec, "allocateLoadBalancerNodePorts", true) }
        if type != "ExternalName" {
            K.fill(&spec, "internalTrafficPolicy", "Cluster")
            K.fill(&spec, "ipFamilyPolicy", "SingleStack")
            K.fill(&spec, "ipFamilies", ["IPv4"])
            // clusterIP and clusterIPs mirror each other.
            let ip = K.string(spec["clusterIP"])
            if !ip.isEmpty && K.array(spec["clusterIPs"]).isEmpty { spec["clusterIPs"] = [.string(ip)] }
            if ip.isEmpty, let first = K.array(spec["clusterIPs"]).first?.stringValue { spec["clusterIP"] = .string(first) }
        }
        object["spec"] = spec
    }

    /// Cluster IPs and node ports are not picked here: the registry reserves them from
    /// `ServiceAllocations` right before the store write, so that they are unique.
    public func prepareForCreate(_ object: inout JSONValue) {
        object["status"] = ["loadBalancer": .object([:])]
    }

    /// Kubernetes keeps allocated values when an update omits them (e.g. `kubectl apply`
    /// of a manifest without `clusterIP`).
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil, let oldSpec = old["spec"] else { return }
        let type = K.string(spec["type"]), oldType = K.string(oldSpec["type"])
        if type != "ExternalName" && oldType != "ExternalName" {
            if K.string(spec["clusterIP"]).isEmpty && K.array(spec["clusterIPs"]).isEmpty {
                spec["clusterIP"] = oldSpec["clusterIP"]
                spec["clusterIPs"] = oldSpec["clusterIPs"]
            }
        }
        // `dropTypeDependentFields`: a type change that no longer needs what the old type had,
        // and leaves it untouched, gives it up (the registry then releases it).
        if type == "ExternalName" && oldType != "ExternalName" && K.string(spec["clusterIP"]) == K.string(oldSpec["clusterIP"]) {
            spec["clusterIP"] = nil
            spec["clusterIPs"] = nil
            for f in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] { spec[f] = nil }
        }
        if !Self.needsNodePorts(spec) && Self.needsNodePorts(oldSpec) {
            let oldPorts = K.array(oldSpec["ports"])
            K.eachElement(&spec, "ports") { p in
                if let np = p["nodePort"]?.intValue, np != 0, oldPorts.contains(where: { $0["nodePort"]?.intValue == np }) { p["nodePort"] = nil }
            }
        }
        if (type == "NodePort" || type == "LoadBalancer") && (oldType == "NodePort" || oldType == "LoadBalancer") {
            let oldPorts = K.array(oldSpec["ports"])
            K.eachElement(&spec, "ports") { p in
                guard (p["nodePort"]?.intValue ?? 0) == 0 else { return }
                if let match = oldPorts.first(where: { $0["port"] == p["port"] && K.string($0["protocol"]) == K.string(p["protocol"]) }) {
                    p["nodePort"] = match["nodePort"]
                }
            }
        }
        object["spec"] = spec
    }

    static func needsNodePorts(_ spec: JSONValue) -> Bool {
        let type = K.string(spec["type"])
        return type == "NodePort" || (type == "LoadBalancer" && spec["allocateLoadBalancerNodePorts"]?.boolValue != false)
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let spec = object["spec"] ?? .object([:])
        errs += K.enumValue(spec["type"], "spec.type", Self.types)
        let type = K.string(spec["type"])
        let clusterIP = K.string(spec["clusterIP"])
        let headless = clusterIP == "None"
        let ports = K.array(spec["ports"])
        if ports.isEmpty && !headless && type != "ExternalName" { errs.append(.required("spec.ports", "")) }
        var names = Set<String>()
        var keys = Set<String>()
        for (i, port) in ports.enumerated() {
            let p = K.idx("spec.ports", i)
            let name = K.string(port["name"])
            if ports.count > 1 && name.isEmpty {
                errs.append(.required(K.child(p, "name"), ""))
            } else if !name.isEmpty {
                errs += NameValidation.validateObjectName(name, path: K.child(p, "name"), rule: .dns1123Label)
                if names.contains(name) { errs.append(.duplicate(K.child(p, "name"), FieldError.show(.string(name)))) }
                names.insert(name)
            }
            let num = K.int(port["port"])
            for m in NameValidation.isValidPortNumber(num) { errs.append(.invalid(K.child(p, "port"), String(num), m)) }
            errs += K.enumValue(port["protocol"], K.child(p, "protocol"), PodSpecValidation.protocols)
            if let tp = port["targetPort"], !tp.isNull {
                errs += PodSpecValidation.validatePortNumOrName(tp, K.child(p, "targetPort"))
            }
            let key = "\(num)/\(K.string(port["protocol"]))"
            if keys.contains(key) { errs.append(.duplicate(p, "{\"protocol\":\"\(K.string(port["protocol"]))\",\"port\":\(num)}")) }
            keys.insert(key)
            let nodePort = K.int(port["nodePort"])
            if nodePort != 0 {
                if type == "ClusterIP" || type == "ExternalName" {
                    errs.append(.forbidden(K.child(p, "nodePort"), "may not be used when `type` is '\(type)'"))
                } else if !(30000...32767).contains(nodePort) {
                    errs.append(.invalid(K.child(p, "nodePort"), String(nodePort),
                                         "provided port is not in the valid range. The range of valid ports is 30000-32767"))
                }
            }
        }
        if type == "ExternalName" {
            let ext = K.string(spec["externalName"])
            if ext.isEmpty {
                errs.append(.required("spec.externalName", ""))
            } else {
                errs += NameValidation.validateObjectName(ext.hasSuffix(".") ? String(ext.dropLast()) : ext, path: "spec.externalName", rule: .dns1123Subdomain)
            }
            if !clusterIP.isEmpty {
                errs.append(.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
            }
        } else if !clusterIP.isEmpty && !headless {
            errs += K.validateIP(clusterIP, "spec.clusterIPs[0]")
        }
        if K.string(spec["sessionAffinity"]) != "" {
            errs += K.enumValue(spec["sessionAffinity"], "spec.sessionAffinity", ["ClientIP", "None"])
        }
        errs += NameValidation.validateLabels(spec["selector"], path: "spec.selector")
        for (i, ip) in K.array(spec["externalIPs"]).enumerated() { errs += K.validateIP(K.string(ip), K.idx("spec.externalIPs", i)) }
        for (field, allowed) in [("externalTrafficPolicy", ["Cluster", "Local"]), ("internalTrafficPolicy", ["Cluster", "Local"])] {
            if let v = spec[field]?.stringValue, !v.isEmpty { errs += K.enumValue(spec[field], "spec.\(field)", allowed) }
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        let newSpec = object["spec"] ?? .object([:]), oldSpec = old["spec"] ?? .object([:])
        if K.string(newSpec["type"]) != "ExternalName" && K.string(oldSpec["type"]) != "ExternalName" {
            let oldIPs = K.array(oldSpec["clusterIPs"]).isEmpty ? [oldSpec["clusterIP"] ?? ""] : K.array(oldSpec["clusterIPs"])
            let newIPs = K.array(newSpec["clusterIPs"]).isEmpty ? [newSpec["clusterIP"] ?? ""] : K.array(newSpec["clusterIPs"])
            if K.string(oldIPs.first) != "" && K.string(oldIPs.first) != K.string(newIPs.first) {
                let shown = "[]string{" + newIPs.map { FieldError.show($0) }.joined(separator: ", ") + "}"
                errs.append(.invalid("spec.clusterIPs[0]", shown, "may not change once set"))
            }
        }
        return errs
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        switch field {
        case "spec.clusterIP": return .some(K.string(object[path: ["spec", "clusterIP"]]))
        case "spec.type": return .some(K.string(object[path: ["spec", "type"]]))
        default: return nil
        }
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Type", description: "type determines how the Service is exposed."),
            TableColumn("Cluster-IP", description: "clusterIP is the IP address of the service and is usually assigned randomly."),
            TableColumn("External-IP", description: "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service."),
            TableColumn("Port(s)", description: "The list of ports that are exposed by this service."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Selector", description: "Route service traffic to pods with label keys and values matching this selector.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let ips = K.array(spec["clusterIPs"])
        var clusterIP = K.string(ips.first)
        if clusterIP.isEmpty { clusterIP = "<none>" }
        let ports = K.array(spec["ports"]).map { p -> String in
            let np = K.int(p["nodePort"])
            return np > 0 ? "\(K.int(p["port"])):\(np)/\(K.string(p["protocol"]))" : "\(K.int(p["port"]))/\(K.string(p["protocol"]))"
        }.joined(separator: ",")
        return [
            .string(object.name ?? ""), .string(K.string(spec["type"])), .string(clusterIP), .string(Self.externalIP(object)),
            .string(ports.isEmpty ? "<none>" : ports), .string(TableFormat.age(of: object, now: now)),
            .string(K.formatLabels(K.stringMap(spec["selector"]))),
        ]
    }

    /// kubectl's EXTERNAL-IP: external IPs, load-balancer ingress, `<pending>`, or the external name.
    static func externalIP(_ object: JSONValue) -> String {
        let spec = object["spec"] ?? .object([:])
        let external = K.array(spec["externalIPs"]).compactMap(\.stringValue)
        switch K.string(spec["type"]) {
        case "ClusterIP", "NodePort":
            return external.isEmpty ? "<none>" : external.joined(separator: ",")
        case "LoadBalancer":
            var lb = Set<String>()
            for ing in K.array(object[path: ["status", "loadBalancer", "ingress"]]) {
                let ip = K.string(ing["ip"]), host = K.string(ing["hostname"])
                if !ip.isEmpty { lb.insert(ip) } else if !host.isEmpty { lb.insert(host) }
            }
            let all = lb.sorted() + external
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            return K.string(spec["externalName"])
        default:
            return "<unknown>"
        }
    }
}
