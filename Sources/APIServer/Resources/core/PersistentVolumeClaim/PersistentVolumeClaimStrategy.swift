import Foundation
import KubeModel

/// core/v1 PersistentVolumeClaim: a request for storage. Its spec is fixed once created, but
/// for a bound claim's `resources.requests` (growth only) and the binding itself
/// (`volumeName`, and a class filled in later for a claim that had none).
public struct PersistentVolumeClaimStrategy: ResourceStrategy {
    typealias K = ResourceKit
    typealias S = StorageRules

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "PersistentVolumeClaim", plural: "persistentvolumeclaims", shortNames: ["pvc"],
        namespaced: true, subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.PersistentVolumeClaim"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    static let phases = ["Bound", "Lost", "Pending"]

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "volumeMode", "Filesystem")
        object["spec"] = spec
        if object[path: ["status", "phase"]] == nil, object["status"]?.objectValue != nil {
            object[path: ["status", "phase"]] = "Pending"
        }
    }

    public func prepareForCreate(_ object: inout JSONValue) {
        object["status"] = ["phase": "Pending"]
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = S.validateAccessModes(spec["accessModes"], "spec.accessModes", requiredDetail: "at least 1 access mode is required")
        errs += K.validateLabelSelector(spec["selector"], "spec.selector")
        let storagePath = K.key("spec.resources", "storage")
        if let value = spec[path: ["resources", "requests", "storage"]], !value.isNull {
            if let q = S.quantity(value, storagePath, &errs), q.mantissa == 0 {
                errs.append(.invalid(storagePath, FieldError.show(.string(q.canonical)), "must be greater than zero"))
            }
        } else {
            errs.append(.required(storagePath, ""))
        }
        errs += S.validateClassName(spec["storageClassName"], "spec.storageClassName")
        errs += S.validateVolumeMode(spec["volumeMode"], "spec.volumeMode")
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        let newSpec = object["spec"] ?? .object([:])
        var oldSpec = old["spec"] ?? .object([:])
        // What may change: the binding (volumeName once), a class given to a claim without
        // one, and for a bound claim the requests.
        if K.string(oldSpec["volumeName"]).isEmpty { oldSpec["volumeName"] = newSpec["volumeName"] }
        if oldSpec["storageClassName"] == nil || oldSpec["storageClassName"]?.isNull == true {
            oldSpec["storageClassName"] = newSpec["storageClassName"]
        }
        let bound = old[path: ["status", "phase"]]?.stringValue == "Bound"
        if bound { oldSpec["resources"] = newSpec["resources"] }
        oldSpec["volumeAttributesClassName"] = newSpec["volumeAttributesClassName"]
        if Self.withoutNulls(oldSpec) != Self.withoutNulls(newSpec) {
            errs.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
        }
        // Shrinking a request is allowed only down to above what the volume has (recovery from
        // a failed expansion), as Kubernetes' RecoverVolumeExpansionFailure.
        if bound, let requested = ResourceQuotaUsage.quantity(newSpec[path: ["resources", "requests", "storage"]]),
           let before = ResourceQuotaUsage.quantity(old[path: ["spec", "resources", "requests", "storage"]]), requested < before {
            let capacity = ResourceQuotaUsage.quantity(old[path: ["status", "capacity", "storage"]]) ?? Quantity(mantissa: 0)
            if !(capacity < requested) {
                errs.append(.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"))
            }
        }
        return errs
    }

    /// Objects compared as Go's semantic equality does: absent and null alike.
    static func withoutNulls(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o): return .object(o.filter { !$0.value.isNull }.mapValues(withoutNulls))
        case .array(let a): return .array(a.map(withoutNulls))
        default: return v
        }
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = K.enumValue(object[path: ["status", "phase"]], "status.phase", Self.phases, required: false)
        for (name, value) in (object[path: ["status", "capacity"]]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            _ = S.quantity(value, K.key("status.capacity", name), &errs)
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Status", description: "phase represents the current phase of PersistentVolumeClaim."),
            TableColumn("Volume", description: "volumeName is the binding reference to the PersistentVolume backing this claim."),
            TableColumn("Capacity", description: "capacity represents the actual resources of the underlying volume."),
            TableColumn("Access Modes", description: "accessModes contains the actual access modes the volume backing the PVC has."),
            TableColumn("StorageClass", description: "StorageClass of the pvc"),
            TableColumn("VolumeAttributesClass", description: "VolumeAttributesClass of the pvc"),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("VolumeMode", description: "volumeMode defines what type of volume is required by the claim.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        var phase = K.string(object[path: ["status", "phase"]])
        if object[path: ["metadata", "deletionTimestamp"]] != nil { phase = "Terminating" }
        let volume = K.string(spec["volumeName"])
        // Capacity and modes are the bound volume's, shown once the claim names one.
        let capacity = volume.isEmpty ? "" : S.storage(object[path: ["status", "capacity"]])
        let modes = volume.isEmpty ? "" : VolumeAccessModes.abbreviated(object[path: ["status", "accessModes"]])
        return [
            .string(object.name ?? ""), .string(phase), .string(volume), .string(capacity), .string(modes), .string(StorageClassName.of(object)),
            .string(S.unsetOr(spec["volumeAttributesClassName"])), .string(TableFormat.age(of: object, now: now)),
            .string(S.unsetOr(spec["volumeMode"])),
        ]
    }
}
