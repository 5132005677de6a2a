import Foundation
import KubeModel

/// The DefaultStorageClass admission plugin: a new PersistentVolumeClaim that names no class
/// (no `storageClassName`, no beta annotation; an empty name means "no class" and is kept) gets
/// the default StorageClass, the newest when several are marked default.
public struct DefaultStorageClassAdmission: AdmissionPlugin {
    public let name = "DefaultStorageClass"

    public init() {}

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard request.operation == .create, request.subresource == nil, request.groupResource == "persistentvolumeclaims" else { return }
        let claim = request.object
        if let given = claim[path: ["spec", "storageClassName"]], !given.isNull { return }
        if claim.annotations[StorageClassName.betaAnnotation] != nil { return }
        guard let strategy = registry.catalog.strategy(group: "storage.k8s.io", plural: "storageclasses") else { return }
        let defaults = try await registry.listAll(strategy, namespace: nil).filter(StorageClassStrategy.isDefault)
        guard let chosen = Self.newest(defaults), let name = chosen.name else { return }
        request.object[path: ["spec", "storageClassName"]] = .string(name)
    }

    /// The newest by creation time, then by name, as Kubernetes picks among several defaults.
    static func newest(_ classes: [JSONValue]) -> JSONValue? {
        classes.max { a, b in
            let ta = a[path: ["metadata", "creationTimestamp"]]?.stringValue ?? ""
            let tb = b[path: ["metadata", "creationTimestamp"]]?.stringValue ?? ""
            return ta != tb ? ta < tb : (a.name ?? "") > (b.name ?? "")
        }
    }
}
