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

    /// The selector is a plain label map.
    public var scalePaths: ScalePaths {
        ScalePaths(specReplicas: ["spec", "replicas"], statusReplicas: ["status", "replicas"], selector: .labelMap(["spec", "selector"]))
    }

    public var tableColumns: [TableColumn] {
        AppsRules.replicaColumns(desired: "Replicas is the number of desired replicas.",
                                 ready: "The number of ready replicas for this replication controller.",
                                 selector: "Selector is a label query over pods that should match the Replicas count.")
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        AppsRules.replicaCells(object, selector: K.formatLabels(K.stringMap(object[path: ["spec", "selector"]])), now: now)
    }
}
