import Foundation
import KubeModel

/// core/v1 Endpoints: address and port validation; the ENDPOINTS column lists `ip:port`.
public struct EndpointsStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Endpoints", plural: "endpoints", singular: "endpoints", shortNames: ["ep"],
        namespaced: true, schemaNames: ["v1": "io.k8s.api.core.v1.Endpoints"])

    public func applyDefaults(to object: inout JSONValue) {
        K.eachElement(&object, "subsets") { s in K.eachElement(&s, "ports") { K.fill(&$0, "protocol", "TCP") } }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, subset) in K.array(object["subsets"]).enumerated() {
            let sp = K.idx("subsets", i)
            for field in ["addresses", "notReadyAddresses"] {
                for (j, a) in K.array(subset[field]).enumerated() {
                    let ap = K.idx(K.child(sp, field), j)
                    let ip = K.string(a["ip"])
                    errs += K.validateIP(ip, K.child(ap, "ip"))
                    if ip.hasPrefix("127.") || ip == "::1" {
                        errs.append(.invalid(K.child(ap, "ip"), FieldError.show(.string(ip)), "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
                    }
                    if let h = a["hostname"]?.stringValue, !h.isEmpty {
                        errs += NameValidation.validateObjectName(h, path: K.child(ap, "hostname"), rule: .dns1123Label)
                    }
                }
            }
            let ports = K.array(subset["ports"])
            for (j, port) in ports.enumerated() {
                let pp = K.idx(K.child(sp, "ports"), j)
                let name = K.string(port["name"])
                if ports.count > 1 && name.isEmpty {
                    errs.append(.required(K.child(pp, "name"), ""))
                } else if !name.isEmpty {
                    errs += NameValidation.validateObjectName(name, path: K.child(pp, "name"), rule: .dns1123Label)
                }
                let n = K.int(port["port"])
                for m in NameValidation.isValidPortNumber(n) { errs.append(.invalid(K.child(pp, "port"), String(n), m)) }
                errs += K.enumValue(port["protocol"], K.child(pp, "protocol"), PodSpecValidation.protocols)
            }
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Endpoints", description: "The set of all endpoints is the union of all subsets."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(Self.formatEndpoints(object)), .string(TableFormat.age(of: object, now: now))]
    }

    /// kubectl's `formatEndpoints`: up to three `ip:port` entries, then "+ N more...".
    static func formatEndpoints(_ object: JSONValue) -> String {
        let subsets = K.array(object["subsets"])
        if subsets.isEmpty { return "<none>" }
        var list: [String] = []
        var count = 0
        var more = false
        func add(_ s: String) { if list.count == 3 { more = true } else { list.append(s) } }
        for ss in subsets {
            let addresses = K.array(ss["addresses"])
            let ports = K.array(ss["ports"])
            if ports.isEmpty {
                count += addresses.count
                for a in addresses { add(K.string(a["ip"])) }
                continue
            }
            for p in ports {
                count += addresses.count
                for a in addresses {
                    let ip = K.string(a["ip"])
                    add(ip.contains(":") ? "[\(ip)]:\(K.int(p["port"]))" : "\(ip):\(K.int(p["port"]))")
                }
            }
        }
        let joined = list.joined(separator: ",")
        return more ? "\(joined) + \(count - 3) more..." : joined
    }
}
