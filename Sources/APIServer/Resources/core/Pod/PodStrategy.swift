import Foundation
import KubeModel

/// core/v1 Pod: defaulting, QoS class on create, spec validation, the narrow set of
/// in-place updates Kubernetes allows, and kubectl's STATUS column logic.
public struct PodStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Pod", plural: "pods", shortNames: ["po"], namespaced: true,
        categories: ["all"], subresources: [.status, .log, .binding, .exec, .attach, .portforward, .eviction],
        schemaNames: ["v1": "io.k8s.api.core.v1.Pod"])

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        PodSpecDefaults.apply(to: &spec)
        object["spec"] = spec
        PodSpecDefaults.applyPodOnly(to: &object)
    }

    /// Status starts Pending with the computed QoS class. Also what the default admission
    /// chain does on create: service account and the not-ready/unreachable tolerations, so
    /// pods look as they do on a real cluster (the Priority plugin sets the priority).
    public func prepareForCreate(_ object: inout JSONValue) {
        if var spec = object["spec"], spec.objectValue != nil {
            if K.string(spec["serviceAccountName"]).isEmpty {
                spec["serviceAccountName"] = "default"
                spec["serviceAccount"] = "default"
            }
            var tolerations = K.array(spec["tolerations"])
            for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
                let tolerated = tolerations.contains { t in
                    let k = K.string(t["key"]), effect = K.string(t["effect"])
                    return (k == key || (k.isEmpty && K.string(t["operator"]) == "Exists")) && (effect.isEmpty || effect == "NoExecute")
                }
                if !tolerated {
                    tolerations.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300])
                }
            }
            spec["tolerations"] = .array(tolerations)
            object["spec"] = spec
        }
        var status: JSONValue = ["phase": "Pending", "qosClass": .string(Self.qosClass(object["spec"]))]
        if !K.array(object[path: ["spec", "schedulingGates"]]).isEmpty {
            status["conditions"] = [[
                "type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates", "lastProbeTime": .null,
                "lastTransitionTime": .string(Timestamp.now()),
            ]]
        }
        object["status"] = status
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        PodSpecValidation.validate(object["spec"], path: "spec")
    }

    /// Kubernetes' refusal for spec changes outside the mutable fields (it appends a diff; we do not).
    public static let updateMessage = "pod updates may not change fields other than `spec.containers[*].image`,"
        + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
        + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        let newSpec = object["spec"] ?? .object([:])
        let oldSpec = old["spec"] ?? .object([:])
        var errsADS: [FieldError] = []
        let path = "spec.activeDeadlineSeconds"
        if let n = newSpec["activeDeadlineSeconds"]?.intValue {
            if let o = oldSpec["activeDeadlineSeconds"]?.intValue, o < n {
                errsADS.append(.invalid(path, String(n), "must be less than or equal to previous value"))
            }
        } else if oldSpec["activeDeadlineSeconds"]?.intValue != nil {
            errsADS.append(.invalid(path, "null", "must not update from a positive integer to nil value"))
        }
        errs += errsADS
        // Existing tolerations may only gain tolerationSeconds changes; new ones may be added.
        let newTol = K.array(newSpec["tolerations"])
        for t in K.array(oldSpec["tolerations"]) {
            var tt = t
            tt["tolerationSeconds"] = nil
            let kept = newTol.contains { n in var nn = n; nn["tolerationSeconds"] = nil; return nn == tt }
            if !kept {
                errs.append(.forbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"))
                break
            }
        }
        // Everything else in spec must be unchanged: overlay the mutable fields from old and compare.
        var masked = newSpec
        for key in ["containers", "initContainers"] {
            let oldList = K.array(oldSpec[key])
            guard var list = masked[key]?.arrayValue, list.count == oldList.count else { continue }
            for i in list.indices { list[i]["image"] = oldList[i]["image"] }
            masked[key] = .array(list)
        }
        masked["activeDeadlineSeconds"] = oldSpec["activeDeadlineSeconds"]
        masked["tolerations"] = oldSpec["tolerations"]
        if let o = oldSpec["terminationGracePeriodSeconds"]?.intValue, o < 0, masked["terminationGracePeriodSeconds"]?.intValue == 1 {
            masked["terminationGracePeriodSeconds"] = oldSpec["terminationGracePeriodSeconds"]
        }
        // Scheduling gates may only be removed.
        let oldGates = K.array(oldSpec["schedulingGates"])
        if K.array(masked["schedulingGates"]).allSatisfy({ oldGates.contains($0) }) {
            masked["schedulingGates"] = oldSpec["schedulingGates"]
        }
        if Self.normalized(masked) != Self.normalized(oldSpec) {
            errs.append(.forbidden("spec", Self.updateMessage))
        }
        return errs
    }

    /// Treats missing and null members alike so a round-tripped spec compares equal.
    static func normalized(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, x) in o where !x.isNull { out[k] = normalized(x) }
            return .object(out)
        case .array(let a): return .array(a.map(normalized))
        default: return v
        }
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let oldNode = K.string(old[path: ["spec", "nodeName"]])
        if !oldNode.isEmpty, K.string(object[path: ["spec", "nodeName"]]) != oldNode {
            errs.append(.forbidden("status.nodeName", "may not be changed directly"))
        }
        if let phase = object[path: ["status", "phase"]]?.stringValue, !phase.isEmpty {
            errs += K.enumValue(.string(phase), "status.phase", ["Pending", "Running", "Succeeded", "Failed", "Unknown"])
        }
        return errs
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        switch field {
        case "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName":
            return .some(K.string(object[path: ["spec", String(field.dropFirst(5))]]))
        case "spec.hostNetwork":
            return .some(String(object[path: ["spec", "hostNetwork"]]?.boolValue ?? false))
        case "status.phase", "status.nominatedNodeName":
            return .some(K.string(object[path: ["status", String(field.dropFirst(7))]]))
        case "status.podIP":
            let ips = K.array(object[path: ["status", "podIPs"]])
            return .some(K.string(ips.first?["ip"] ?? object[path: ["status", "podIP"]]))
        default:
            return nil
        }
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn("Status", description: "The aggregate status of the containers in this pod."),
            TableColumn("Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("IP", description: "podIP address allocated to the pod.", priority: 1),
            TableColumn("Node", description: "NodeName indicates in which node this pod is scheduled.", priority: 1),
            TableColumn("Nominated Node", description: "nominatedNodeName is set when this pod preempts other pods on the node.", priority: 1),
            TableColumn("Readiness Gates", description: "If specified, all readiness gates will be evaluated for pod readiness.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let row = Self.podRow(object, now: now)
        let status = object["status"] ?? .object([:])
        let ips = K.array(status["podIPs"])
        var ip = K.string(ips.first?["ip"])
        if ip.isEmpty { ip = K.string(status["podIP"]) }
        let node = K.string(object[path: ["spec", "nodeName"]])
        let nominated = K.string(status["nominatedNodeName"])
        var gates = "<none>"
        let readinessGates = K.array(object[path: ["spec", "readinessGates"]])
        if !readinessGates.isEmpty {
            let conditions = K.array(status["conditions"])
            let trueCount = readinessGates.filter { g in
                conditions.first { K.string($0["type"]) == K.string(g["conditionType"]) }.map { K.string($0["status"]) == "True" } ?? false
            }.count
            gates = "\(trueCount)/\(readinessGates.count)"
        }
        return [
            .string(object.name ?? ""), .string(row.ready), .string(row.status), .string(row.restarts),
            .string(TableFormat.age(of: object, now: now)),
            .string(ip.isEmpty ? "<none>" : ip), .string(node.isEmpty ? "<none>" : node),
            .string(nominated.isEmpty ? "<none>" : nominated), .string(gates),
        ]
    }
}
