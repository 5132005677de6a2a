import Foundation
import KubeModel

/// core/v1 Node: cluster-scoped; taints validated; podCIDR/providerID set once; kubectl's
/// STATUS/ROLES columns.
public struct NodeStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    /// A kubelet registers its Node with capacity, addresses and conditions already filled in.
    public var keepsStatusOnCreate: Bool { true }

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Node", plural: "nodes", shortNames: ["no"], namespaced: false,
        subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.Node"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    /// `SetDefaults_NodeStatus`: allocatable defaults to capacity.
    public func applyDefaults(to object: inout JSONValue) {
        if let cap = object[path: ["status", "capacity"]], object[path: ["status", "allocatable"]] == nil {
            object[path: ["status", "allocatable"]] = cap
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        var seen = Set<String>()
        for (i, t) in K.array(object[path: ["spec", "taints"]]).enumerated() {
            let p = K.idx("spec.taints", i)
            let key = K.string(t["key"])
            if key.isEmpty {
                errs.append(.required(K.child(p, "key"), ""))
            } else {
                for m in NameValidation.isQualifiedName(key) { errs.append(.invalid(K.child(p, "key"), FieldError.show(.string(key)), m)) }
            }
            for m in NameValidation.isValidLabelValue(K.string(t["value"])) {
                errs.append(.invalid(K.child(p, "value"), FieldError.show(t["value"]), m))
            }
            errs += K.enumValue(t["effect"], K.child(p, "effect"), ["NoSchedule", "PreferNoSchedule", "NoExecute"])
            let pair = key + "\u{0}" + K.string(t["effect"])
            if seen.contains(pair) {
                errs.append(.duplicate(p, "{\"\(key)\" \"\(K.string(t["effect"]))\"}"))
                errs[errs.count - 1].detail = "taints must be unique by key and effect pair"
            }
            seen.insert(pair)
        }
        for (i, cidr) in K.array(object[path: ["spec", "podCIDRs"]]).enumerated() {
            let s = K.string(cidr)
            let parts = s.split(separator: "/")
            if parts.count != 2 || !K.isIP(String(parts[0])) || Int(parts[1]) == nil {
                errs.append(.invalid(K.idx("spec.podCIDRs", i), FieldError.show(cidr), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
            }
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        let oldCIDRs = K.array(old[path: ["spec", "podCIDRs"]])
        if !oldCIDRs.isEmpty, K.array(object[path: ["spec", "podCIDRs"]]) != oldCIDRs {
            errs.append(.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"))
        }
        let oldProvider = K.string(old[path: ["spec", "providerID"]])
        if !oldProvider.isEmpty, K.string(object[path: ["spec", "providerID"]]) != oldProvider {
            errs.append(.forbidden("spec.providerID", "node updates may only set providerID except from \"\" to valid"))
        }
        return errs
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        field == "spec.unschedulable" ? .some(String(object[path: ["spec", "unschedulable"]]?.boolValue ?? false)) : nil
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Status", description: "The status of the node"),
            TableColumn("Roles", description: "The roles of the node"),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Version", description: "Kubelet Version reported by the node."),
            TableColumn("Internal-IP", description: "List of addresses reachable to the node.", priority: 1),
            TableColumn("External-IP", description: "List of addresses reachable to the node.", priority: 1),
            TableColumn("OS-Image", description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
            TableColumn("Kernel-Version", description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
            TableColumn("Container-Runtime", description: "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let status = object["status"] ?? .object([:])
        var states: [String] = []
        if let ready = K.array(status["conditions"]).last(where: { K.string($0["type"]) == "Ready" }) {
            states.append(K.string(ready["status"]) == "True" ? "Ready" : "NotReady")
        } else {
            states.append("Unknown")
        }
        if object[path: ["spec", "unschedulable"]]?.boolValue == true { states.append("SchedulingDisabled") }
        let roles = Self.roles(object.labels)
        let info = status["nodeInfo"] ?? .object([:])
        func address(_ type: String) -> String {
            K.array(status["addresses"]).first { K.string($0["type"]) == type }.map { K.string($0["address"]) } ?? "<none>"
        }
        func orUnknown(_ s: String) -> String { s.isEmpty ? "<unknown>" : s }
        return [
            .string(object.name ?? ""), .string(states.joined(separator: ",")), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
            .string(TableFormat.age(of: object, now: now)), .string(K.string(info["kubeletVersion"])),
            .string(address("InternalIP")), .string(address("ExternalIP")),
            .string(orUnknown(K.string(info["osImage"]))), .string(orUnknown(K.string(info["kernelVersion"]))),
            .string(orUnknown(K.string(info["containerRuntimeVersion"]))),
        ]
    }

    /// Roles from `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role=<role>`.
    static func roles(_ labels: [String: String]) -> [String] {
        var roles = Set<String>()
        for (k, v) in labels {
            if k.hasPrefix("node-role.kubernetes.io/") {
                let role = String(k.dropFirst("node-role.kubernetes.io/".count))
                if !role.isEmpty { roles.insert(role) }
            } else if k == "kubernetes.io/role" && !v.isEmpty {
                roles.insert(v)
            }
        }
        return roles.sorted()
    }
}
