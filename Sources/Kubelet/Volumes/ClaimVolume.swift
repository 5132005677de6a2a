import Foundation
import KubeModel

/// `persistentVolumeClaim` volumes: the claim must be Bound, and its PersistentVolume's
/// `hostPath` or `local` directory on this node is what gets mounted. A local-path volume's
/// directory (hostPath, type DirectoryOrCreate) is made here on the first mount.
struct ClaimVolume: Sendable {
    /// The directory on the node.
    var path: String
    /// The hostPath type check to run (`Directory` for `local` volumes).
    var type: String
    /// The claim or the pod's volume asks for a read-only mount.
    var readOnly: Bool
    /// The volume's data goes when the volume is deleted (reclaim policy Delete).
    var deletes: Bool = false

    /// Looks up the claim and its volume; throws `ContainerStartError` while the claim is
    /// missing or unbound, or for a volume type the kubelet cannot mount.
    static func resolve(_ source: JSONValue, namespace: String, objects: any ObjectSource) async throws -> ClaimVolume {
        let claimName = source["claimName"]?.stringValue ?? ""
        guard let claim = try await objects.persistentVolumeClaim(namespace: namespace, name: claimName) else {
            throw DownwardValues.configError("persistentvolumeclaim \"\(claimName)\" not found")
        }
        let volumeName = claim[path: ["spec", "volumeName"]]?.stringValue ?? ""
        guard claim[path: ["status", "phase"]]?.stringValue == "Bound", !volumeName.isEmpty else {
            throw DownwardValues.configError("error processing PVC \(namespace)/\(claimName): PVC is not bound")
        }
        guard let volume = try await objects.persistentVolume(name: volumeName) else {
            throw DownwardValues.configError("persistentvolume \"\(volumeName)\" not found")
        }
        if let uid = volume[path: ["spec", "claimRef", "uid"]]?.stringValue, uid != claim.uid {
            throw DownwardValues.configError("error processing PVC \(namespace)/\(claimName): volume \(volumeName) is bound to another claim")
        }
        let readOnly = source["readOnly"]?.boolValue == true
        if let hostPath = volume[path: ["spec", "hostPath"]], let path = hostPath["path"]?.stringValue, path.hasPrefix("/") {
            return ClaimVolume(path: path, type: hostPath["type"]?.stringValue ?? "", readOnly: readOnly,
                               deletes: LocalVolumeJanitor.deletes(volume))
        }
        if let path = volume[path: ["spec", "local", "path"]]?.stringValue, path.hasPrefix("/") {
            return ClaimVolume(path: path, type: "Directory", readOnly: readOnly)
        }
        let kind = (volume["spec"]?.objectValue ?? [:]).keys.filter { !nonSourceFields.contains($0) }.sorted().first ?? "(none)"
        throw DownwardValues.configError("volume type \(kind) of PersistentVolume \(volumeName) is not supported by caravel")
    }

    static let nonSourceFields: Set<String> = [
        "accessModes", "capacity", "claimRef", "mountOptions", "nodeAffinity", "persistentVolumeReclaimPolicy",
        "storageClassName", "volumeAttributesClassName", "volumeMode",
    ]

    /// Names of the pod's claim volumes mounted read-only (`persistentVolumeClaim.readOnly`).
    static func readOnlyVolumes(of pod: JSONValue) -> Set<String> {
        Set((pod[path: ["spec", "volumes"]]?.arrayValue ?? []).compactMap { volume in
            volume[path: ["persistentVolumeClaim", "readOnly"]]?.boolValue == true ? volume["name"]?.stringValue : nil
        })
    }
}
