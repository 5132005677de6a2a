import Foundation
import KubeModel

/// policy/v1 PodDisruptionBudget: how many of a set of pods voluntary disruptions (evictions,
/// `kubectl drain`) must leave. The disruption controller keeps `status` current; the eviction
/// subresource of pods reads and decrements `status.disruptionsAllowed`.
public struct PodDisruptionBudgetStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "policy", versions: ["v1"], kind: "PodDisruptionBudget", plural: "poddisruptionbudgets",
        shortNames: ["pdb"], namespaced: true, subresources: [.status],
        schemaNames: ["v1": "io.k8s.api.policy.v1.PodDisruptionBudget"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    public static let unhealthyPodEvictionPolicies = ["IfHealthyBudget", "AlwaysAllow"]

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs: [FieldError] = []
        let minAvailable = spec["minAvailable"].flatMap { $0.isNull ? nil : $0 }
        let maxUnavailable = spec["maxUnavailable"].flatMap { $0.isNull ? nil : $0 }
        if minAvailable != nil && maxUnavailable != nil {
            errs.append(.invalid("spec", "", "minAvailable and maxUnavailable cannot be both set"))
        }
        for (field, value) in [("minAvailable", minAvailable), ("maxUnavailable", maxUnavailable)] {
            guard let value else { continue }
            let path = "spec.\(field)"
            let found = K.positiveIntOrPercent(value, path)
            errs += found
            if found.isEmpty, let percent = value.stringValue.flatMap(K.percentValue), percent > 100 {
                errs.append(.invalid(path, FieldError.show(value), "must not be greater than 100%"))
            }
        }
        if let selector = spec["selector"], !selector.isNull {
            errs += K.validateLabelSelector(selector, "spec.selector")
        }
        errs += K.enumValue(spec["unhealthyPodEvictionPolicy"], "spec.unhealthyPodEvictionPolicy",
                            Self.unhealthyPodEvictionPolicies, required: false)
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        let status = object["status"] ?? .object([:])
        var errs: [FieldError] = []
        for field in ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods", "observedGeneration"] {
            errs += K.nonnegative(status[field], "status.\(field)")
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Min Available", description: "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction."),
            TableColumn("Max Unavailable", description: "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction."),
            TableColumn("Allowed Disruptions", type: "integer", description: "Number of pod disruptions that are currently allowed."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        func show(_ v: JSONValue?) -> JSONValue {
            if let n = v?.intValue { return .string(String(n)) }
            if let s = v?.stringValue { return .string(s) }
            return "N/A"
        }
        return [.string(object.name ?? ""), show(object[path: ["spec", "minAvailable"]]), show(object[path: ["spec", "maxUnavailable"]]),
                .int(object[path: ["status", "disruptionsAllowed"]]?.intValue ?? 0), .string(TableFormat.age(of: object, now: now))]
    }
}
