import Foundation
import KubeModel

/// networking.k8s.io/v1 NetworkPolicy: default `policyTypes`, peers and ports validated.
public struct NetworkPolicyStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "networking.k8s.io", versions: ["v1"], kind: "NetworkPolicy", plural: "networkpolicies",
        shortNames: ["netpol"], namespaced: true, schemaNames: ["v1": "io.k8s.api.networking.v1.NetworkPolicy"])

    /// `policyTypes` defaults to Ingress, plus Egress when egress rules are present.
    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "podSelector", .object([:]))
        if K.array(spec["policyTypes"]).isEmpty {
            spec["policyTypes"] = K.array(spec["egress"]).isEmpty ? ["Ingress"] : ["Ingress", "Egress"]
        }
        for dir in ["ingress", "egress"] {
            K.eachElement(&spec, dir) { rule in K.eachElement(&rule, "ports") { K.fill(&$0, "protocol", "TCP") } }
        }
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = K.validateLabelSelector(spec["podSelector"], "spec.podSelector")
        for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
            for (i, rule) in K.array(spec[dir]).enumerated() {
                let rp = K.idx("spec.\(dir)", i)
                for (j, port) in K.array(rule["ports"]).enumerated() { errs += Self.validatePort(port, K.idx(K.child(rp, "ports"), j)) }
                for (j, peer) in K.array(rule[peers]).enumerated() { errs += Self.validatePeer(peer, K.idx(K.child(rp, peers), j)) }
            }
        }
        let types = K.array(spec["policyTypes"])
        if types.count > 2 { errs.append(FieldError(.tooMany, "spec.policyTypes", "must have at most 2 items")) }
        for (i, t) in types.enumerated() { errs += K.enumValue(t, K.idx("spec.policyTypes", i), ["Ingress", "Egress"]) }
        return errs
    }

    static func validatePort(_ port: JSONValue, _ p: String) -> [FieldError] {
        var errs = K.enumValue(port["protocol"], K.child(p, "protocol"), PodSpecValidation.protocols, required: false)
        guard let v = port["port"], !v.isNull else {
            if port["endPort"].map({ !$0.isNull }) ?? false {
                errs.append(.required(K.child(p, "port"), "must specify port when endPort is set"))
            }
            return errs
        }
        errs += PodSpecValidation.validatePortNumOrName(v, K.child(p, "port"))
        if let end = port["endPort"]?.intValue {
            if let start = v.intValue {
                if end < start { errs.append(.invalid(K.child(p, "endPort"), String(end), "must be greater than or equal to `port`")) }
                errs += NameValidation.isValidPortNumber(end).map { .invalid(K.child(p, "endPort"), String(end), $0) }
            } else {
                errs.append(.invalid(K.child(p, "endPort"), String(end), "may not be specified when `port` is non-numeric"))
            }
        }
        return errs
    }

    static func validatePeer(_ peer: JSONValue, _ p: String) -> [FieldError] {
        var errs: [FieldError] = []
        let has = { (k: String) in peer[k].map { !$0.isNull } ?? false }
        if has("podSelector") { errs += K.validateLabelSelector(peer["podSelector"], K.child(p, "podSelector")) }
        if has("namespaceSelector") { errs += K.validateLabelSelector(peer["namespaceSelector"], K.child(p, "namespaceSelector")) }
        if has("ipBlock") {
            if has("podSelector") || has("namespaceSelector") {
                errs.append(.forbidden(p, "may not specify both ipBlock and another peer"))
            }
            let cidr = K.string(peer[path: ["ipBlock", "cidr"]])
            if cidr.isEmpty {
                errs.append(.required(K.child(p, "ipBlock.cidr"), ""))
            } else if !Self.isCIDR(cidr) {
                errs.append(.invalid(K.child(p, "ipBlock.cidr"), FieldError.show(.string(cidr)), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
            }
            for (i, ex) in K.array(peer[path: ["ipBlock", "except"]]).enumerated() where !Self.isCIDR(K.string(ex)) {
                errs.append(.invalid(K.idx(K.child(p, "ipBlock.except"), i), FieldError.show(ex), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
            }
        } else if !has("podSelector") && !has("namespaceSelector") {
            errs.append(.required(p, "must specify a peer"))
        }
        return errs
    }

    static func isCIDR(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]) else { return false }
        let ip = String(parts[0])
        if K.isIPv4(ip) { return (0...32).contains(bits) }
        return K.isIPv6(ip) && (0...128).contains(bits)
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Pod-Selector", description: "Selects the pods to which this NetworkPolicy object applies."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(K.formatLabelSelector(object[path: ["spec", "podSelector"]])), .string(TableFormat.age(of: object, now: now))]
    }
}
