import KubeModel

/// The StorageObjectInUseProtection admission plugin: every new PersistentVolumeClaim gets the
/// `kubernetes.io/pvc-protection` finalizer and every new PersistentVolume
/// `kubernetes.io/pv-protection`. The PersistentVolume controller removes them once the claim
/// is used by no pod, or the volume bound to no claim, so neither goes while in use.
public struct StorageObjectInUseProtection: AdmissionPlugin {
    public let name = "StorageObjectInUseProtection"
    public static let claimFinalizer = "kubernetes.io/pvc-protection"
    public static let volumeFinalizer = "kubernetes.io/pv-protection"

    public init() {}

    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard request.operation == .create, request.subresource == nil else { return }
        let finalizer: String
        switch request.groupResource {
        case "persistentvolumeclaims": finalizer = Self.claimFinalizer
        case "persistentvolumes": finalizer = Self.volumeFinalizer
        default: return
        }
        var finalizers = request.object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        guard !finalizers.contains(.string(finalizer)) else { return }
        finalizers.append(.string(finalizer))
        request.object[path: ["metadata", "finalizers"]] = .array(finalizers)
    }
}
