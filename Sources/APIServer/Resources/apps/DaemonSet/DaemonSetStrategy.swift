import Foundation
import KubeModel

/// apps/v1 DaemonSet: defaults (RollingUpdate with maxUnavailable 1 and maxSurge 0, history
/// limit 10), selector/template/update-strategy validation, immutable selector, `kubectl get ds`'s
/// table. The daemon set controller keeps `status`.
public struct DaemonSetStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apps", versions: ["v1"], kind: "DaemonSet", plural: "daemonsets", shortNames: ["ds"],
        namespaced: true, categories: ["all"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.api.apps.v1.DaemonSet"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "updateStrategy", .object([:]))
        K.withChild(&spec, "updateStrategy") { s in
            if K.string(s["type"]).isEmpty { s["type"] = "RollingUpdate" }
            if K.string(s["type"]) == "RollingUpdate" {
                K.fill(&s, "rollingUpdate", .object([:]))
                K.withChild(&s, "rollingUpdate") { r in
                    K.fill(&r, "maxUnavailable", 1)
                    K.fill(&r, "maxSurge", 0)
                }
            }
        }
        K.fill(&spec, "revisionHistoryLimit", 10)
        AppsRules.defaultTemplate(&spec)
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = AppsRules.validateControllerSpec(spec, kind: "DaemonSet")
        errs += K.nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        errs += Self.validateUpdateStrategy(spec["updateStrategy"], "spec.updateStrategy")
        return errs
    }

    static func validateUpdateStrategy(_ strategy: JSONValue?, _ path: String) -> [FieldError] {
        let s = strategy ?? .object([:])
        switch K.string(s["type"]) {
        case "OnDelete":
            return []
        case "RollingUpdate":
            guard let r = s["rollingUpdate"].flatMap({ $0.isNull ? nil : $0 }) else {
                return [.required(K.child(path, "rollingUpdate"), "")]
            }
            return AppsRules.validateRollingUpdate(r, K.child(path, "rollingUpdate"), capSurge: true)
        default:
            return [.notSupported(K.child(path, "type"), FieldError.show(s["type"]), ["OnDelete", "RollingUpdate"])]
        }
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + K.immutable(object[path: ["spec", "selector"]], old[path: ["spec", "selector"]], "spec.selector")
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        let status = object["status"] ?? .object([:])
        var errs: [FieldError] = []
        for f in ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady", "observedGeneration",
                  "updatedNumberScheduled", "numberAvailable", "numberUnavailable", "collisionCount"] {
            errs += K.nonnegative(status[f], "status.\(f)")
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Desired", type: "integer", description: "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod)."),
            TableColumn("Current", type: "integer", description: "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
            TableColumn("Ready", type: "integer", description: "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."),
            TableColumn("Up-to-date", type: "integer", description: "The total number of nodes that are running updated daemon pod"),
            TableColumn("Available", type: "integer", description: "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"),
            TableColumn("Node Selector", description: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: "A label query over pods that are managed by the daemon set.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .int(K.int(status["desiredNumberScheduled"])), .int(K.int(status["currentNumberScheduled"])),
            .int(K.int(status["numberReady"])), .int(K.int(status["updatedNumberScheduled"])), .int(K.int(status["numberAvailable"])),
            .string(K.formatLabels(K.stringMap(spec[path: ["template", "spec", "nodeSelector"]]))),
            .string(TableFormat.age(of: object, now: now)), .string(names), .string(images),
            .string(K.formatLabelSelector(spec["selector"])),
        ]
    }
}
