import Foundation
import KubeModel

/// v1 ReplicationController: a ReplicaSet with an equality selector (a plain label map).
/// Defaults as Kubernetes: the selector and the object's labels from the template's labels,
/// one replica. Served with `status` and `scale`; the replicaset controller reconciles it.
public struct ReplicationControllerStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "ReplicationController", plural: "replicationcontrollers", shortNames: ["rc"],
        namespaced: true, categories: ["all"], subresources: [.status, .scale],
        schemaNames: ["v1": "io.k8s.api.core.v1.ReplicationController"])

    public var subresourceHandlers: [SubresourceHandler] { [.status, .scale] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        let templateLabels = spec[path: ["template", "metadata", "labels"]]
        if let templateLabels, !(templateLabels.objectValue?.isEmpty ?? true) {
            if K.stringMap(spec["selector"]).isEmpty { spec["selector"] = templateLabels }
            if object.labels.isEmpty, object["metadata"]?.objectValue != nil { object[path: ["metadata", "labels"]] = templateLabels }
        }
        K.fill(&spec, "replicas", 1)
        AppsRules.defaultTemplate(&spec)
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = K.nonnegative(spec["replicas"], "spec.replicas")
        errs += K.nonnegative(spec["minReadySeconds"], "spec.minReadySeconds")
        let selector = spec["selector"].flatMap { $0.isNull ? nil : $0 }
        if K.stringMap(selector).isEmpty {
            errs.append(.required("spec.selector", ""))
        } else {
            errs += NameValidation.validateLabels(selector, path: "spec.selector")
        }
        let asLabelSelector: JSONValue? = selector.map { ["matchLabels": $0] }
        errs += PodSpecValidation.validateTemplateForController(spec["template"], selector: asLabelSelector, path: "spec.template",
                                                                kind: "ReplicationController")
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        AppsRules.validateReplicaStatus(object["status"], extra: ["fullyLabeledReplicas"])
    }

    public func scaleSelector(of object: JSONValue) -> String? {
        let selector = K.stringMap(object[path: ["spec", "selector"]])
        return selector.keys.sorted().map { "\($0)=\(selector[$0] ?? "")" }.joined(separator: ",")
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Desired", type: "integer", description: "Replicas is the number of desired replicas."),
            TableColumn("Current", type: "integer", description: "Replicas is the most recently observed number of replicas."),
            TableColumn("Ready", type: "integer", description: "The number of ready replicas for this replication controller."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: "Selector is a label query over pods that should match the Replicas count.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .int(K.int(spec["replicas"])), .int(K.int(status["replicas"])),
            .int(K.int(status["readyReplicas"])), .string(TableFormat.age(of: object, now: now)),
            .string(names), .string(images), .string(K.formatLabels(K.stringMap(spec["selector"]))),
        ]
    }
}
