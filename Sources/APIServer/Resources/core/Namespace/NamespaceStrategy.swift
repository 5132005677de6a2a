import Foundation
import KubeModel

/// core/v1 Namespace: cluster-scoped, DNS-1123 label names, `kubernetes` finalizer and
/// `Active` phase set by the server.
public struct NamespaceStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "Namespace", plural: "namespaces", shortNames: ["ns"], namespaced: false,
        subresources: [.status, .finalize], schemaNames: ["v1": "io.k8s.api.core.v1.Namespace"])

    /// Namespace names become DNS labels (`svc.<ns>.svc`).
    public var nameRule: NameRule { .dns1123Label }

    /// Kubernetes labels every namespace with its own name so selectors can target it.
    public func applyDefaults(to object: inout JSONValue) {
        if let name = object.name, !name.isEmpty {
            object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(name)
        }
        if object["status"] != nil, K.string(object[path: ["status", "phase"]]).isEmpty {
            object[path: ["status", "phase"]] = "Active"
        }
    }

    /// The server owns the phase and makes sure the `kubernetes` finalizer is present.
    public func prepareForCreate(_ object: inout JSONValue) {
        var finalizers = K.array(object[path: ["spec", "finalizers"]])
        if !finalizers.contains("kubernetes") { finalizers.append("kubernetes") }
        object[path: ["spec", "finalizers"]] = .array(finalizers)
        object[path: ["status", "phase"]] = "Active"
    }

    /// Finalizers change only through the `finalize` subresource.
    public func prepareForUpdate(_ object: inout JSONValue, old: JSONValue) {
        object[path: ["spec", "finalizers"]] = old[path: ["spec", "finalizers"]]
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        for (i, f) in K.array(object[path: ["spec", "finalizers"]]).enumerated() {
            errs += Self.validateFinalizer(K.string(f), K.idx("spec.finalizers", i))
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        let phase = object[path: ["status", "phase"]]
        guard let p = phase?.stringValue, !p.isEmpty else { return [] }
        return K.enumValue(phase, "status.phase", ["Active", "Terminating"])
    }

    /// Finalizer names are `kubernetes` or fully qualified (`example.com/name`).
    static func validateFinalizer(_ name: String, _ path: String) -> [FieldError] {
        var errs = NameValidation.isQualifiedName(name).map { FieldError.invalid(path, FieldError.show(.string(name)), $0) }
        if errs.isEmpty && name != "kubernetes" && !name.contains("/") {
            errs.append(.invalid(path, FieldError.show(.string(name)), "name is neither a standard finalizer name nor is it fully qualified"))
        }
        return errs
    }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        field == "status.phase" ? .some(K.string(object[path: ["status", "phase"]])) : nil
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Status", description: "The status of the namespace"),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .string(K.string(object[path: ["status", "phase"]])), .string(TableFormat.age(of: object, now: now))]
    }
}
