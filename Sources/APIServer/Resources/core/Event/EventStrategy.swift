import Foundation
import KubeModel

/// core/v1 Event: the field selectors `kubectl get events --field-selector` relies on and
/// kubectl's LAST SEEN/TYPE/REASON/OBJECT/MESSAGE table.
public struct EventStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Event", plural: "events", shortNames: ["ev"], namespaced: true,
        schemaNames: ["v1": "io.k8s.api.core.v1.Event"])

    /// The involved object must live in the event's namespace (cluster-scoped objects'
    /// events go to `default` or no namespace).
    public func validate(_ object: JSONValue) -> [FieldError] {
        let ns = object.namespace ?? ""
        let involvedNS = K.string(object[path: ["involvedObject", "namespace"]])
        if involvedNS.isEmpty ? !(ns.isEmpty || ns == "default") : ns != involvedNS {
            return [.invalid("involvedObject.namespace", FieldError.show(.string(involvedNS)), "does not match event.namespace")]
        }
        return []
    }

    static let involvedFields = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"]

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        if field.hasPrefix("involvedObject.") {
            let sub = String(field.dropFirst("involvedObject.".count))
            return Self.involvedFields.contains(sub) ? .some(K.string(object[path: ["involvedObject", sub]])) : nil
        }
        switch field {
        case "reason", "type", "reportingComponent":
            return .some(K.string(object[field == "reportingComponent" ? "reportingComponent" : field]))
        case "source":
            return .some(K.string(object[path: ["source", "component"]]))
        default:
            return nil
        }
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Last Seen", description: "The time at which the most recent occurrence of this event was recorded."),
            TableColumn("Type", description: "Type of this event (Normal, Warning), new types could be added in the future"),
            TableColumn("Reason", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
            TableColumn("Object", description: "The object that this event is about."),
            TableColumn("Subobject", description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.", priority: 1),
            TableColumn("Source", description: "The component reporting this event. Should be a short machine understandable string.", priority: 1),
            TableColumn("Message", description: "A human-readable description of the status of this operation."),
            TableColumn("First Seen", description: "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", priority: 1),
            TableColumn("Count", description: "The number of times this event has occurred.", priority: 1),
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        func present(_ key: String) -> Bool { !K.string(object[key]).isEmpty }
        let first = present("firstTimestamp") ? K.since(object["firstTimestamp"], now: now) : K.since(object["eventTime"], now: now)
        var last = present("lastTimestamp") ? K.since(object["lastTimestamp"], now: now) : first
        var count = K.int(object["count"])
        if let series = object["series"], !series.isNull {
            last = K.since(series["lastObservedTime"], now: now)
            count = K.int(series["count"])
        } else if count == 0 {
            count = 1
        }
        let kind = K.string(object[path: ["involvedObject", "kind"]]).lowercased()
        let name = K.string(object[path: ["involvedObject", "name"]])
        let target = name.isEmpty ? kind : "\(kind)/\(name)"
        let component = K.string(object[path: ["source", "component"]]).isEmpty
            ? K.string(object["reportingComponent"]) : K.string(object[path: ["source", "component"]])
        let host = K.string(object[path: ["source", "host"]]).isEmpty
            ? K.string(object["reportingInstance"]) : K.string(object[path: ["source", "host"]])
        let source = host.isEmpty ? component : "\(component), \(host)"
        return [
            .string(last), .string(K.string(object["type"])), .string(K.string(object["reason"])), .string(target),
            .string(K.string(object[path: ["involvedObject", "fieldPath"]])), .string(source),
            .string(K.string(object["message"]).trimmingCharacters(in: .whitespacesAndNewlines)),
            .string(first), .int(count), .string(object.name ?? ""),
        ]
    }
}
