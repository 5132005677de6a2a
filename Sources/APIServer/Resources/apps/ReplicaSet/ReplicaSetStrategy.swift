import Foundation
import KubeModel

/// apps/v1 ReplicaSet: replicas default, selector/template validation, immutable selector.
public struct ReplicaSetStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apps", versions: ["v1"], kind: "ReplicaSet", plural: "replicasets", shortNames: ["rs"],
        namespaced: true, categories: ["all"], subresources: [.status, .scale],
        schemaNames: ["v1": "io.k8s.api.apps.v1.ReplicaSet"])

    public var subresourceHandlers: [SubresourceHandler] { [.status, .scale] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "replicas", 1)
        AppsRules.defaultTemplate(&spec)
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        AppsRules.validateControllerSpec(object["spec"] ?? .object([:]))
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + K.immutable(object[path: ["spec", "selector"]], old[path: ["spec", "selector"]], "spec.selector")
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        AppsRules.validateReplicaStatus(object["status"], extra: ["fullyLabeledReplicas"])
    }

    public var tableColumns: [TableColumn] {
        AppsRules.replicaColumns(desired: "Replicas is the number of desired pods.",
                                 ready: "The number of ready replicas for this replica set.",
                                 selector: "Selector is a label query over pods that should match the replica count.")
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        AppsRules.replicaCells(object, selector: K.formatLabelSelector(object[path: ["spec", "selector"]]), now: now)
    }
}
