import Foundation
import KubeModel

/// Rules the apps/v1 workload kinds share.
enum AppsRules {
    typealias K = ResourceKit

    static func defaultTemplate(_ spec: inout JSONValue) {
        guard var template = spec["template"], template.objectValue != nil else { return }
        var podSpec = template["spec"] ?? .object([:])
        PodSpecDefaults.apply(to: &podSpec)
        template["spec"] = podSpec
        spec["template"] = template
    }

    /// replicas, minReadySeconds, selector (required, non-empty, valid) and the template.
    static func validateControllerSpec(_ spec: JSONValue, kind: String = "ReplicaSet") -> [FieldError] {
        var errs = K.nonnegative(spec["replicas"], "spec.replicas")
        errs += K.nonnegative(spec["minReadySeconds"], "spec.minReadySeconds")
        let selector = spec["selector"].flatMap { $0.isNull ? nil : $0 }
        if let selector {
            errs += K.validateLabelSelector(selector, "spec.selector")
            if K.selectorIsEmpty(selector) {
                errs.append(.invalid("spec.selector", FieldError.show(selector), "empty selector is invalid for \(kind == "ReplicaSet" ? "deployment" : kind.lowercased())"))
            }
        } else {
            errs.append(.required("spec.selector", ""))
        }
        errs += PodSpecValidation.validateTemplateForController(spec["template"], selector: selector, path: "spec.template", kind: kind)
        return errs
    }

    /// Status counters must be non-negative.
    static func validateReplicaStatus(_ status: JSONValue?, extra: [String]) -> [FieldError] {
        var errs: [FieldError] = []
        for f in ["replicas", "readyReplicas", "availableReplicas", "observedGeneration"] + extra {
            errs += K.nonnegative(status?[f], "status.\(f)")
        }
        return errs
    }

    /// The `-o wide` columns of kinds with a pod template: CONTAINERS, IMAGES, SELECTOR.
    static func templateColumns(selector: String) -> [TableColumn] {
        [
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: selector, priority: 1),
        ]
    }

    /// kubectl's CONTAINERS and IMAGES cells: comma-joined from the template.
    static func containerCells(_ spec: JSONValue) -> (String, String) {
        let containers = K.array(spec[path: ["template", "spec", "containers"]])
        return (containers.map { K.string($0["name"]) }.joined(separator: ","), containers.map { K.string($0["image"]) }.joined(separator: ","))
    }

    /// A RollingUpdate's `maxUnavailable` and `maxSurge` (int or percent, not both 0, not
    /// past 100%; Deployments cap only maxUnavailable, DaemonSets both).
    static func validateRollingUpdate(_ r: JSONValue, _ path: String, capSurge: Bool) -> [FieldError] {
        var errs = K.positiveIntOrPercent(r["maxUnavailable"], K.child(path, "maxUnavailable"))
        errs += K.positiveIntOrPercent(r["maxSurge"], K.child(path, "maxSurge"))
        func value(_ v: JSONValue?) -> Int64 { v?.intValue ?? v?.stringValue.flatMap(K.percentValue) ?? 0 }
        if value(r["maxUnavailable"]) == 0 && value(r["maxSurge"]) == 0 {
            errs.append(.invalid(K.child(path, "maxUnavailable"), FieldError.show(r["maxUnavailable"]), "may not be 0 when `maxSurge` is 0"))
        }
        for f in capSurge ? ["maxUnavailable", "maxSurge"] : ["maxUnavailable"] {
            if let p = r[f]?.stringValue.flatMap(K.percentValue), p > 100 {
                errs.append(.invalid(K.child(path, f), FieldError.show(r[f]), "must not be greater than 100%"))
            }
        }
        return errs
    }

    /// `kubectl get rs` / `get rc` columns: DESIRED CURRENT READY AGE, -o wide CONTAINERS IMAGES SELECTOR.
    static func replicaColumns(desired: String, ready: String, selector: String) -> [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Desired", type: "integer", description: desired),
            TableColumn("Current", type: "integer", description: "Replicas is the most recently observed number of replicas."),
            TableColumn("Ready", type: "integer", description: ready),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
            TableColumn("Selector", description: selector, priority: 1),
        ]
    }

    /// The cells of `replicaColumns`, the selector already formatted.
    static func replicaCells(_ object: JSONValue, selector: String, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let status = object["status"] ?? .object([:])
        let (names, images) = containerCells(spec)
        return [
            .string(object.name ?? ""), .int(K.int(spec["replicas"])), .int(K.int(status["replicas"])),
            .int(K.int(status["readyReplicas"])), .string(TableFormat.age(of: object, now: now)),
            .string(names), .string(images), .string(selector),
        ]
    }
}
