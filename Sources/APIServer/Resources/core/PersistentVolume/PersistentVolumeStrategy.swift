import Foundation
import KubeModel

/// core/v1 PersistentVolume (cluster-scoped): a piece of storage, bound one-to-one to a claim
/// through `spec.claimRef` by the PersistentVolume controller, which also keeps `status.phase`.
public struct PersistentVolumeStrategy: ResourceStrategy {
    typealias K = ResourceKit
    typealias S = StorageRules

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "PersistentVolume", plural: "persistentvolumes", shortNames: ["pv"], namespaced: false,
        subresources: [.status], schemaNames: ["v1": "io.k8s.api.core.v1.PersistentVolume"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }

    static let reclaimPolicies = ["Delete", "Recycle", "Retain"]
    static let phases = ["Available", "Bound", "Failed", "Pending", "Released"]
    /// The volume sources of `PersistentVolumeSpec`; exactly one must be set.
    static let volumeSources = [
        "gcePersistentDisk", "awsElasticBlockStore", "hostPath", "glusterfs", "nfs", "rbd", "iscsi", "cinder", "cephfs", "fc",
        "flocker", "flexVolume", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
        "scaleIO", "local", "storageos", "csi",
    ]

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "persistentVolumeReclaimPolicy", "Retain")
        K.fill(&spec, "volumeMode", "Filesystem")
        K.withChild(&spec, "hostPath") { K.fill(&$0, "type", "") }
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
        var errs = S.validateAccessModes(spec["accessModes"], "spec.accessModes", requiredDetail: "")
        let capacity = spec["capacity"]?.objectValue ?? [:]
        if capacity.isEmpty {
            errs.append(.required("spec.capacity", ""))
        } else if capacity["storage"] == nil || capacity.count > 1 {
            errs.append(.notSupported("spec.capacity", capacity.keys.sorted().joined(separator: ","), ["storage"]))
        }
        for (name, value) in capacity.sorted(by: { $0.key < $1.key }) {
            _ = S.quantity(value, K.key("spec.capacity", name), &errs)
        }
        errs += K.enumValue(spec["persistentVolumeReclaimPolicy"], "spec.persistentVolumeReclaimPolicy", Self.reclaimPolicies, required: false)
        errs += S.validateClassName(spec["storageClassName"], "spec.storageClassName")
        errs += S.validateVolumeMode(spec["volumeMode"], "spec.volumeMode")
        errs += Self.validateSource(spec)
        errs += S.validateVolumeNodeAffinity(spec["nodeAffinity"], "spec.nodeAffinity")
        if let claim = spec["claimRef"], !claim.isNull, K.string(claim["name"]).isEmpty {
            errs.append(.required("spec.claimRef.name", ""))
        }
        return errs
    }

    /// Exactly one volume source; a `local` one needs a path and node affinity, `hostPath` a path.
    static func validateSource(_ spec: JSONValue) -> [FieldError] {
        let given = volumeSources.filter { spec[$0] != nil && spec[$0]?.isNull == false }
        guard let first = given.first else { return [.required("spec", "must specify a volume type")] }
        var errs = given.dropFirst().map { FieldError.forbidden("spec.\($0)", "may not specify more than 1 volume type") }
        switch first {
        case "hostPath":
            let path = K.string(spec[path: ["hostPath", "path"]])
            if path.isEmpty { errs.append(.required("spec.hostPath.path", "")) }
            if path.split(separator: "/").contains("..") {
                errs.append(.invalid("spec.hostPath.path", FieldError.show(.string(path)), "must not contain '..'"))
            }
            if path == "/" { errs.append(.forbidden("spec.hostPath.path", "must not be \"/\"")) }
        case "local":
            let path = K.string(spec[path: ["local", "path"]])
            if path.isEmpty { errs.append(.required("spec.local.path", "")) }
            if path.split(separator: "/").contains("..") {
                errs.append(.invalid("spec.local.path", FieldError.show(.string(path)), "must not contain '..'"))
            }
            if spec["nodeAffinity"] == nil || spec["nodeAffinity"]?.isNull == true {
                errs.append(.required("spec.nodeAffinity", "Local volume requires node affinity"))
            }
        default: break
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        let source = { (o: JSONValue) in Self.volumeSources.map { o[path: ["spec", $0]] } }
        if source(object) != source(old) {
            errs.append(.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"))
        }
        errs += K.immutable(object[path: ["spec", "volumeMode"]], old[path: ["spec", "volumeMode"]], "volumeMode")
        if let oldAffinity = old[path: ["spec", "nodeAffinity"]], !oldAffinity.isNull {
            errs += K.immutable(object[path: ["spec", "nodeAffinity"]], oldAffinity, "spec.nodeAffinity")
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        K.enumValue(object[path: ["status", "phase"]], "status.phase", Self.phases, required: false)
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Capacity", description: "capacity is the description of the persistent volume's resources and capacity."),
            TableColumn("Access Modes", description: "accessModes contains all ways the volume can be mounted."),
            TableColumn("Reclaim Policy", description: "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
            TableColumn("Status", description: "phase indicates if a volume is available, bound to a claim, or released by a claim."),
            TableColumn("Claim", description: "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
            TableColumn("StorageClass", description: "StorageClass of the pv"),
            TableColumn("VolumeAttributesClass", description: "VolumeAttributesClass of the pv"),
            TableColumn("Reason", description: "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("VolumeMode", description: "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        var claim = ""
        if let ref = spec["claimRef"], !ref.isNull { claim = K.string(ref["namespace"]) + "/" + K.string(ref["name"]) }
        var phase = K.string(object[path: ["status", "phase"]])
        if object[path: ["metadata", "deletionTimestamp"]] != nil { phase = "Terminating" }
        return [
            .string(object.name ?? ""), .string(S.storage(spec["capacity"])), .string(VolumeAccessModes.abbreviated(spec["accessModes"])),
            .string(K.string(spec["persistentVolumeReclaimPolicy"])), .string(phase), .string(claim), .string(StorageClassName.of(object)),
            .string(S.unsetOr(spec["volumeAttributesClassName"])), .string(K.string(object[path: ["status", "reason"]])),
            .string(TableFormat.age(of: object, now: now)), .string(S.unsetOr(spec["volumeMode"])),
        ]
    }
}
