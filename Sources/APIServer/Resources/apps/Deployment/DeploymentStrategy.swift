import Foundation
import KubeModel

/// apps/v1 Deployment: defaults (replicas, rolling update 25%/25%, history and deadline),
/// selector/template validation, immutable selector, kubectl's table.
public struct DeploymentStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apps", versions: ["v1"], kind: "Deployment", plural: "deployments", shortNames: ["deploy"],
        namespaced: true, categories: ["all"], subresources: [.status, .scale],
        schemaNames: ["v1": "io.k8s.api.apps.v1.Deployment"])

    public var subresourceHandlers: [SubresourceHandler] { [.status, .scale] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "replicas", 1)
        K.fill(&spec, "strategy", .object([:]))
        K.withChild(&spec, "strategy") { s in
            if K.string(s["type"]).isEmpty { s["type"] = "RollingUpdate" }
            if K.string(s["type"]) == "RollingUpdate" {
                K.fill(&s, "rollingUpdate", .object([:]))
                K.withChild(&s, "rollingUpdate") { r in
                    K.fill(&r, "maxUnavailable", "25%")
                    K.fill(&r, "maxSurge", "25%")
                }
            }
        }
        K.fill(&spec, "revisionHistoryLimit", 10)
        K.fill(&spec, "progressDeadlineSeconds", 600)
        AppsRules.defaultTemplate(&spec)
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = AppsRules.validateControllerSpec(spec)
        errs += K.nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        if let pds = spec["progressDeadlineSeconds"], !pds.isNull {
            errs += K.nonnegative(pds, "spec.progressDeadlineSeconds")
            if let p = pds.intValue, p <= K.int(spec["minReadySeconds"]) {
                errs.append(.invalid("spec.progressDeadlineSeconds", String(p), "must be greater than minReadySeconds"))
            }
        }
        errs += Self.validateStrategy(spec["strategy"], "spec.strategy")
        return errs
    }

    static func validateStrategy(_ strategy: JSONValue?, _ path: String) -> [FieldError] {
        let s = strategy ?? .object([:])
        let rolling = s["rollingUpdate"].flatMap { $0.isNull ? nil : $0 }
        switch K.string(s["type"]) {
        case "Recreate":
            return rolling == nil ? [] : [.forbidden(K.child(path, "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")]
        case "RollingUpdate":
            guard let r = rolling else { return [.required(K.child(path, "rollingUpdate"), "this should be defaulted and never be nil")] }
            return AppsRules.validateRollingUpdate(r, K.child(path, "rollingUpdate"), capSurge: false)
        default:
            return [.notSupported(path, FieldError.show(s["type"]), ["Recreate", "RollingUpdate"])]
        }
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + K.immutable(object[path: ["spec", "selector"]], old[path: ["spec", "selector"]], "spec.selector")
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        AppsRules.validateReplicaStatus(object["status"], extra: ["updatedReplicas", "unavailableReplicas", "collisionCount"])
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Ready", description: "Number of the pod with ready state"),
            TableColumn("Up-to-date", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
            TableColumn("Available", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .string("\(K.int(status["readyReplicas"]))/\(K.int(spec["replicas"]))"),
            .int(K.int(status["updatedReplicas"])), .int(K.int(status["availableReplicas"])),
            .string(TableFormat.age(of: object, now: now)), .string(names), .string(images),
            .string(K.selectorString(spec["selector"])),
        ]
    }
}
