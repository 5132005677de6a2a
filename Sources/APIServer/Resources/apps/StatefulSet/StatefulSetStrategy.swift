import Foundation
import KubeModel

/// apps/v1 StatefulSet: defaults (OrderedReady, RollingUpdate with partition 0, history 10, PVC
/// retention Retain/Retain, claim templates Filesystem/Pending), validation including the spec
/// fields an update may change, `kubectl get sts`'s table, `status` and `scale`.
public struct StatefulSetStrategy: ResourceStrategy {
    public var tracksGeneration: Bool { true }
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apps", versions: ["v1"], kind: "StatefulSet", plural: "statefulsets", shortNames: ["sts"],
        namespaced: true, categories: ["all"], subresources: [.status, .scale],
        schemaNames: ["v1": "io.k8s.api.apps.v1.StatefulSet"])

    public var subresourceHandlers: [SubresourceHandler] { [.status, .scale] }

    static let retentionValues = ["Retain", "Delete"]
    /// The spec fields an update may change (`ValidateStatefulSetUpdate`).
    static let mutableFields = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
                                "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]

    public func applyDefaults(to object: inout JSONValue) {
        guard var spec = object["spec"], spec.objectValue != nil else { return }
        K.fill(&spec, "replicas", 1)
        K.fill(&spec, "podManagementPolicy", "OrderedReady")
        K.fill(&spec, "updateStrategy", .object([:]))
        K.withChild(&spec, "updateStrategy") { s in
            if K.string(s["type"]).isEmpty { s["type"] = "RollingUpdate" }
            if K.string(s["type"]) == "RollingUpdate" {
                K.fill(&s, "rollingUpdate", .object([:]))
                K.withChild(&s, "rollingUpdate") { r in K.fill(&r, "partition", 0) }
            }
        }
        K.fill(&spec, "revisionHistoryLimit", 10)
        K.fill(&spec, "persistentVolumeClaimRetentionPolicy", .object([:]))
        K.withChild(&spec, "persistentVolumeClaimRetentionPolicy") { p in
            K.fill(&p, "whenDeleted", "Retain")
            K.fill(&p, "whenScaled", "Retain")
        }
        K.eachElement(&spec, "volumeClaimTemplates") { claim in
            K.fill(&claim, "spec", .object([:]))
            K.withChild(&claim, "spec") { K.fill(&$0, "volumeMode", "Filesystem") }
            K.fill(&claim, "status", .object([:]))
            K.withChild(&claim, "status") { K.fill(&$0, "phase", "Pending") }
        }
        AppsRules.defaultTemplate(&spec)
        object["spec"] = spec
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs = AppsRules.validateControllerSpec(Self.withClaimVolumes(spec), kind: "StatefulSet")
        errs += K.nonnegative(spec["revisionHistoryLimit"], "spec.revisionHistoryLimit")
        errs += K.enumValue(spec["podManagementPolicy"], "spec.podManagementPolicy", ["OrderedReady", "Parallel"])
        errs += Self.validateUpdateStrategy(spec["updateStrategy"], "spec.updateStrategy")
        let policy = "spec.persistentVolumeClaimRetentionPolicy"
        errs += K.enumValue(spec[path: ["persistentVolumeClaimRetentionPolicy", "whenDeleted"]], "\(policy).whenDeleted", Self.retentionValues)
        errs += K.enumValue(spec[path: ["persistentVolumeClaimRetentionPolicy", "whenScaled"]], "\(policy).whenScaled", Self.retentionValues)
        errs += K.nonnegative(spec[path: ["ordinals", "start"]], "spec.ordinals.start")
        for (i, claim) in K.array(spec["volumeClaimTemplates"]).enumerated() {
            let path = K.idx("spec.volumeClaimTemplates", i)
            let name = K.string(claim[path: ["metadata", "name"]])
            if name.isEmpty {
                errs.append(.required("\(path).metadata.name", "name or generateName is required"))
            } else {
                for m in NameValidation.isDNS1123Subdomain(name) { errs.append(.invalid("\(path).metadata.name", FieldError.show(.string(name)), m)) }
            }
            if K.array(claim[path: ["spec", "accessModes"]]).isEmpty {
                errs.append(.required("\(path).spec.accessModes", "at least 1 access mode is required"))
            }
        }
        return errs
    }

    /// The spec with a volume per claim template, as each pod gets it: containers mount
    /// claim templates by name.
    static func withClaimVolumes(_ spec: JSONValue) -> JSONValue {
        let claims = K.array(spec["volumeClaimTemplates"]).compactMap { $0[path: ["metadata", "name"]]?.stringValue }
        guard !claims.isEmpty, spec[path: ["template", "spec"]]?.objectValue != nil else { return spec }
        var out = spec
        var volumes = K.array(spec[path: ["template", "spec", "volumes"]])
        for name in claims where !volumes.contains(where: { $0["name"]?.stringValue == name }) {
            volumes.append(["name": .string(name), "persistentVolumeClaim": ["claimName": .string(name)]])
        }
        out[path: ["template", "spec", "volumes"]] = .array(volumes)
        return out
    }

    static func validateUpdateStrategy(_ strategy: JSONValue?, _ path: String) -> [FieldError] {
        let s = strategy ?? .object([:])
        let rolling = s["rollingUpdate"].flatMap { $0.isNull ? nil : $0 }
        let rp = K.child(path, "rollingUpdate")
        switch K.string(s["type"]) {
        case "OnDelete":
            return rolling == nil ? [] : [.invalid(rp, "", "only allowed for updateStrategy 'RollingUpdate'")]
        case "RollingUpdate":
            guard let r = rolling else { return [] }
            var errs = K.nonnegative(r["partition"], K.child(rp, "partition"))
            if let mu = r["maxUnavailable"], !mu.isNull {
                let found = K.positiveIntOrPercent(mu, K.child(rp, "maxUnavailable"))
                errs += found
                if found.isEmpty, (mu.intValue ?? mu.stringValue.flatMap(K.percentValue) ?? 0) == 0 {
                    errs.append(.invalid(K.child(rp, "maxUnavailable"), FieldError.show(mu), "must be greater than 0"))
                }
            }
            return errs
        case "":
            return [.required(K.child(path, "type"), "")]
        default:
            return [.notSupported(K.child(path, "type"), FieldError.show(s["type"]), ["OnDelete", "RollingUpdate"])]
        }
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        var new = object["spec"]?.objectValue ?? [:]
        var was = old["spec"]?.objectValue ?? [:]
        for f in Self.mutableFields { new[f] = nil; was[f] = nil }
        if new != was {
            errs.append(.forbidden("spec", "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
        }
        return errs
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        AppsRules.validateReplicaStatus(object["status"], extra: ["currentReplicas", "updatedReplicas", "collisionCount"])
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Ready", description: "Number of the pod with ready state"),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
            TableColumn("Containers", description: "Names of each container in the template.", priority: 1),
            TableColumn("Images", description: "Images referenced by each container in the template.", priority: 1),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        let spec = object["spec"] ?? .object([:])
        let (names, images) = AppsRules.containerCells(spec)
        return [
            .string(object.name ?? ""), .string("\(K.int(object[path: ["status", "readyReplicas"]]))/\(K.int(spec["replicas"]))"),
            .string(TableFormat.age(of: object, now: now)), .string(names), .string(images),
        ]
    }
}
