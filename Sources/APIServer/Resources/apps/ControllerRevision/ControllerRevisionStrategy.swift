import Foundation
import KubeModel

/// apps/v1 ControllerRevision: an immutable snapshot of a DaemonSet's or StatefulSet's
/// template (`data`) with its `revision` number, which `kubectl rollout history|undo` read.
/// As in Kubernetes, `data` is immutable while `revision` may be raised when an older snapshot
/// becomes current again.
public struct ControllerRevisionStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apps", versions: ["v1"], kind: "ControllerRevision", plural: "controllerrevisions",
        namespaced: true, schemaNames: ["v1": "io.k8s.api.apps.v1.ControllerRevision"])

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs = K.nonnegative(object["revision"], "revision")
        if object["data"] == nil || object["data"]?.isNull == true {
            errs.append(.required("data", "data is mandatory"))
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + K.immutable(object["data"], old["data"], "data")
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Controller", description: "Controller of the object"),
            TableColumn("Revision", type: "integer", description: "Revision indicates the revision of the state represented by Data."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(Self.controllerName(object)), .int(K.int(object["revision"])),
         .string(TableFormat.age(of: object, now: now))]
    }

    /// `daemonset.apps/web`: the controller ownerReference as `kind.group/name`, `<none>` without one.
    static func controllerName(_ object: JSONValue) -> String {
        let refs = K.array(object[path: ["metadata", "ownerReferences"]])
        guard let ref = refs.first(where: { $0["controller"]?.boolValue == true }) else { return "<none>" }
        let apiVersion = K.string(ref["apiVersion"])
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        let kind = K.string(ref["kind"]).lowercased()
        return (group.isEmpty ? kind : "\(kind).\(group)") + "/" + K.string(ref["name"])
    }
}
