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
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Desired", type: "integer", description: "Replicas is the number of desired pods."),
            TableColumn("Current", type: "integer", description: "Replicas is the most recently observed number of replicas."),
            TableColumn("Ready", type: "integer", description: "The number of ready replicas for this replica set."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: "Selector is a label query over pods that should match the replica count.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .int(K.int(spec["replicas"])), .int(K.int(status["replicas"])),
            .int(K.int(status["readyReplicas"])), .string(TableFormat.age(of: object, now: now)),
            .string(names), .string(images), .string(K.formatLabelSelector(spec["selector"])),
        ]
    }
}
