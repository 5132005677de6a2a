import Foundation
import KubeModel

/// discovery.k8s.io/v1 EndpointSlice: address type (immutable), addresses valid for it,
/// port defaults and validation.
public struct EndpointSliceStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "discovery.k8s.io", versions: ["v1"], kind: "EndpointSlice", plural: "endpointslices", namespaced: true,
        schemaNames: ["v1": "io.k8s.api.discovery.v1.EndpointSlice"])

    static let addressTypes = ["IPv4", "IPv6", "FQDN"]

    public func applyDefaults(to object: inout JSONValue) {
        K.eachElement(&object, "ports") { p in
            K.fill(&p, "protocol", "TCP")
            K.fill(&p, "name", "")
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs = K.enumValue(object["addressType"], "addressType", Self.addressTypes)
        let type = K.string(object["addressType"])
        let endpoints = K.array(object["endpoints"])
        if endpoints.count > 1000 { errs.append(FieldError(.tooMany, "endpoints", "must have at most 1000 items")) }
        for (i, ep) in endpoints.enumerated() {
            let p = K.idx("endpoints", i)
            let addresses = K.array(ep["addresses"])
            if addresses.isEmpty {
                errs.append(.required(K.child(p, "addresses"), "must contain at least 1 address"))
            } else if addresses.count > 100 {
                errs.append(FieldError(.tooMany, K.child(p, "addresses"), "must have at most 100 items"))
            }
            for (j, a) in addresses.enumerated() {
                let ap = K.idx(K.child(p, "addresses"), j)
                let s = K.string(a)
                switch type {
                case "IPv4" where !K.isIPv4(s):
                    errs.append(.invalid(ap, FieldError.show(a), "must be a valid IPv4 address"))
                case "IPv6" where !K.isIPv6(s):
                    errs.append(.invalid(ap, FieldError.show(a), "must be a valid IPv6 address"))
                case "FQDN":
                    errs += NameValidation.validateObjectName(s, path: ap, rule: .dns1123Subdomain)
                default: break
                }
            }
            if let h = ep["hostname"]?.stringValue, !h.isEmpty {
                errs += NameValidation.validateObjectName(h, path: K.child(p, "hostname"), rule: .dns1123Label)
            }
            if let n = ep["nodeName"]?.stringValue, !n.isEmpty {
                errs += NameValidation.validateObjectName(n, path: K.child(p, "nodeName"), rule: .dns1123Subdomain)
            }
        }
        var names = Set<String>()
        for (i, port) in K.array(object["ports"]).enumerated() {
            let p = K.idx("ports", i)
            let name = K.string(port["name"])
            if !name.isEmpty { errs += NameValidation.validateObjectName(name, path: K.child(p, "name"), rule: .dns1123Label) }
            if names.contains(name) { errs.append(.duplicate(K.child(p, "name"), FieldError.show(.string(name)))) }
            names.insert(name)
            if let n = port["port"]?.intValue {
                errs += NameValidation.isValidPortNumber(n).map { .invalid(K.child(p, "port"), String(n), $0) }
            }
            errs += K.enumValue(port["protocol"], K.child(p, "protocol"), PodSpecValidation.protocols)
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + K.immutable(object["addressType"], old["addressType"], "addressType")
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("AddressType", description: "addressType specifies the type of address carried by this EndpointSlice."),
            TableColumn("Ports", description: "ports specifies the list of network ports exposed by each endpoint in this slice."),
            TableColumn("Endpoints", description: "endpoints is a list of unique endpoints in this slice."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let ports = K.array(object["ports"]).map { p -> String in
            if let n = p["port"]?.intValue { return String(n) }
            if let name = p["name"]?.stringValue { return name }
            return "*"
        }
        let addresses = K.array(object["endpoints"]).flatMap { K.array($0["addresses"]).map { K.string($0) } }
        return [
            .string(object.name ?? ""), .string(K.string(object["addressType"])), .string(Self.listWithMore(ports)),
            .string(Self.listWithMore(addresses)), .string(TableFormat.age(of: object, now: now)),
        ]
    }

    /// kubectl's `listWithMoreString`: three items, "+ N more...", `<unset>` when empty.
    static func listWithMore(_ items: [String]) -> String {
        if items.count > 3 { return items.prefix(3).joined(separator: ",") + " + \(items.count - 3) more..." }
        return items.isEmpty ? "<unset>" : items.joined(separator: ",")
    }
}
