import Foundation
import KubeModel

/// storage.k8s.io/v1 StorageClass (cluster-scoped): how claims of a class get their volumes.
/// Everything but labels, annotations and `allowVolumeExpansion` is fixed once created.
public struct StorageClassStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "storage.k8s.io", versions: ["v1"], kind: "StorageClass", plural: "storageclasses", shortNames: ["sc"],
        namespaced: false, schemaNames: ["v1": "io.k8s.api.storage.v1.StorageClass"])

    static let reclaimPolicies = ["Delete", "Retain"]
    static let bindingModes = ["Immediate", "WaitForFirstConsumer"]

    public func applyDefaults(to object: inout JSONValue) {
        K.fill(&object, "reclaimPolicy", "Delete")
        K.fill(&object, "volumeBindingMode", "Immediate")
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        let provisioner = K.string(object["provisioner"])
        if provisioner.isEmpty {
            errs.append(.required("provisioner", ""))
        } else {
            errs += NameValidation.isQualifiedName(provisioner.lowercased()).map { .invalid("provisioner", FieldError.show(.string(provisioner)), $0) }
        }
        let parameters = object["parameters"]?.objectValue ?? [:]
        if parameters.count > 512 {
            errs.append(FieldError(.tooLong, "parameters", value: "", "Provisioner Parameters exceeded max allowed"))
        }
        for (key, _) in parameters where key.isEmpty {
            errs.append(.invalid("parameters", FieldError.show(.string(key)), "field can not be empty."))
        }
        errs += K.enumValue(object["reclaimPolicy"], "reclaimPolicy", Self.reclaimPolicies, required: false)
        errs += K.enumValue(object["volumeBindingMode"], "volumeBindingMode", Self.bindingModes)
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        if (object["parameters"]?.objectValue ?? [:]) != (old["parameters"]?.objectValue ?? [:]) {
            errs.append(.forbidden("parameters", "updates to parameters are forbidden."))
        }
        if K.string(object["provisioner"]) != K.string(old["provisioner"]) {
            errs.append(.forbidden("provisioner", "updates to provisioner are forbidden."))
        }
        if K.string(object["reclaimPolicy"]) != K.string(old["reclaimPolicy"]) {
            errs.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        }
        errs += K.immutable(object["volumeBindingMode"], old["volumeBindingMode"], "volumeBindingMode")
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Provisioner", description: "provisioner indicates the type of the provisioner."),
            TableColumn("ReclaimPolicy", description: "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."),
            TableColumn("VolumeBindingMode", description: "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."),
            TableColumn("AllowVolumeExpansion", description: "allowVolumeExpansion shows whether the storage class allow volume expand."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    /// The default class is shown as `NAME (default)`.
    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        var name = object.name ?? ""
        if Self.isDefault(object) { name += " (default)" }
        return [
            .string(name), .string(K.string(object["provisioner"])), .string(object["reclaimPolicy"]?.stringValue ?? "Delete"),
            .string(object["volumeBindingMode"]?.stringValue ?? "Immediate"), .bool(object["allowVolumeExpansion"]?.boolValue ?? false),
            .string(TableFormat.age(of: object, now: now)),
        ]
    }

    /// `storageclass.kubernetes.io/is-default-class: "true"` (or the beta annotation).
    static func isDefault(_ object: JSONValue) -> Bool {
        let a = object.annotations
        return a[StorageRules.defaultClassAnnotation] == "true" || a["storageclass.beta.kubernetes.io/is-default-class"] == "true"
    }
}
