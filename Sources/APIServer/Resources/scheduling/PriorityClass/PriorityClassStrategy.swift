import Foundation
import KubeModel

/// scheduling.k8s.io/v1 PriorityClass (cluster-scoped): a name for a pod priority. The Priority
/// admission plugin turns a pod's `priorityClassName` into `spec.priority`, which orders the
/// scheduling queue. `value` and `preemptionPolicy` are fixed once created.
public struct PriorityClassStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "scheduling.k8s.io", versions: ["v1"], kind: "PriorityClass", plural: "priorityclasses", shortNames: ["pc"],
        namespaced: false, schemaNames: ["v1": "io.k8s.api.scheduling.v1.PriorityClass"])

    /// Values above this are kept for the system classes.
    public static let highestUserDefinable: Int64 = 1_000_000_000
    public static let systemPrefix = "system-"
    /// The classes every cluster has, with their values and descriptions.
    public static let systemClasses: [(name: String, value: Int64, description: String)] = [
        ("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ]
    static let preemptionPolicies = ["Never", "PreemptLowerPriority"]

    public func applyDefaults(to object: inout JSONValue) {
        K.fill(&object, "preemptionPolicy", "PreemptLowerPriority")
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let name = object.name ?? "", value = K.int(object["value"])
        if name.hasPrefix(Self.systemPrefix) {
            if let problem = Self.systemClassProblem(name: name, value: value, globalDefault: object["globalDefault"]?.boolValue ?? false) {
                errs.append(.forbidden("metadata.name", "priority class names with '\(Self.systemPrefix)' prefix are reserved for system use only. error: \(problem)"))
            }
        } else if value > Self.highestUserDefinable {
            errs.append(.forbidden("value", "maximum allowed value of a user defined priority is \(Self.highestUserDefinable)"))
        }
        errs += K.enumValue(object["preemptionPolicy"], "preemptionPolicy", Self.preemptionPolicies, required: false)
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        if K.int(object["value"]) != K.int(old["value"]) {
            errs.append(.forbidden("value", "may not be changed in an update."))
        }
        if K.string(object["preemptionPolicy"]) != K.string(old["preemptionPolicy"]) {
            errs.append(.forbidden("preemptionPolicy", "may not be changed in an update."))
        }
        return errs
    }

    /// Why a `system-` name is refused, or nil for one of the system classes as they are.
    static func systemClassProblem(name: String, value: Int64, globalDefault: Bool) -> String? {
        guard let known = systemClasses.first(where: { $0.name == name }) else { return "\(name) is not a known system priority class" }
        if value != known.value { return "value of \(name) PriorityClass must be \(known.value)" }
        if globalDefault { return "globalDefault of \(name) PriorityClass must be false" }
        return nil
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Value", type: "integer", description: "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
            TableColumn("Global-Default", type: "boolean", description: "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("PreemptionPolicy", description: "preemptionPolicy is the Policy for preempting pods with lower priority."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [
            .string(object.name ?? ""), .int(K.int(object["value"])), .bool(object["globalDefault"]?.boolValue ?? false),
            .string(TableFormat.age(of: object, now: now)), .string(object["preemptionPolicy"]?.stringValue ?? "PreemptLowerPriority"),
        ]
    }
}
