import Foundation
import KubeModel

/// core/v1 ResourceQuota: `spec.hard` limits per namespace; `status.hard` / `status.used` are
/// kept by the resource quota controller through the status subresource. Quantities are stored
/// in canonical form; object counts must be whole numbers.
public struct ResourceQuotaStrategy: ResourceStrategy {
    typealias K = ResourceKit
    typealias Q = ResourceQuotaUsage

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "ResourceQuota", plural: "resourcequotas", shortNames: ["quota"], namespaced: true,
        subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.ResourceQuota"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    static let scopes = ["BestEffort", "CrossNamespacePodAffinity", "NotBestEffort", "NotTerminating", "PriorityClass",
                         "Terminating", "VolumeAttributesClass"]

    public func applyDefaults(to object: inout JSONValue) {
        for path in [["spec", "hard"], ["status", "hard"], ["status", "used"]] {
            guard var list = object[path: path], list.objectValue != nil else { continue }
            LimitRangeStrategy.canonicalize(&list)
            object[path: path] = list
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs = Self.validateList(object[path: ["spec", "hard"]], "spec.hard")
        for (i, s) in K.array(object[path: ["spec", "scopes"]]).enumerated() where !Self.scopes.contains(K.string(s)) {
            errs.append(.notSupported(K.idx("spec.scopes", i), FieldError.show(s), Self.scopes))
        }
        for (i, e) in K.array(object[path: ["spec", "scopeSelector", "matchExpressions"]]).enumerated() {
            let p = K.idx("spec.scopeSelector.matchExpressions", i)
            if !Self.scopes.contains(K.string(e["scopeName"])) {
                errs.append(.notSupported(K.child(p, "scopeName"), FieldError.show(e["scopeName"]), Self.scopes))
            }
            let ops = ["DoesNotExist", "Exists", "In", "NotIn"]
            if !ops.contains(K.string(e["operator"])) { errs.append(.notSupported(K.child(p, "operator"), FieldError.show(e["operator"]), ops)) }
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        Self.validateList(object[path: ["status", "hard"]], "status.hard") + Self.validateList(object[path: ["status", "used"]], "status.used")
    }

    /// Valid names, parseable non-negative quantities, integers for object counts.
    static func validateList(_ list: JSONValue?, _ path: String) -> [FieldError] {
        var errs: [FieldError] = []
        for (name, v) in (list?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let p = K.key(path, name)
            let bare = name.hasPrefix("count/") ? String(name.dropFirst("count/".count)) : name
            for m in NameValidation.isQualifiedName(bare) { errs.append(.invalid(p, FieldError.show(.string(name)), m)) }
            guard let q = Q.quantity(v) else { errs.append(.invalid(p, FieldError.show(v), Quantity.syntaxError)); continue }
            if q.mantissa < 0 { errs.append(.invalid(p, FieldError.show(.string(q.canonical)), "must be greater than or equal to 0")) }
            let counted = Q.isObjectCount(name)
            if counted && q.scale < 0 { errs.append(.invalid(p, FieldError.show(.string(q.canonical)), "must be an integer")) }
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Request", description: "Request represents a minimum amount of cpu/memory that a container may consume."),
            TableColumn("Limit", description: "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
        ]
    }

    /// `pods: 1/2, requests.cpu: 500m/1` in Request, the `limits.*` resources in Limit.
    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let used = Q.resourceList(object[path: ["status", "used"]])
        let hard = Q.resourceList(object[path: ["status", "hard"]])
        var request: [String] = []
        var limit: [String] = []
        for name in (object[path: ["spec", "hard"]]?.objectValue ?? [:]).keys.sorted() {
            let cell = "\(name): \(used[name]?.canonical ?? "0")/\(hard[name]?.canonical ?? "0")"
            if name.hasPrefix("limits.") { limit.append(cell) } else { request.append(cell) }
        }
        return [.string(object.name ?? ""), .string(TableFormat.age(of: object, now: now)),
                .string(request.joined(separator: ", ")), .string(limit.joined(separator: ", "))]
    }
}
