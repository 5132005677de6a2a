/// The class a PersistentVolume or PersistentVolumeClaim belongs to, as Kubernetes reads it.
public enum StorageClassName {
    /// The class annotation older clients set instead of `spec.storageClassName`.
    public static let betaAnnotation = "volume.beta.kubernetes.io/storage-class"

    /// `spec.storageClassName`, else the beta annotation, else "" (no class).
    public static func of(_ object: JSONValue) -> String {
        if let s = object[path: ["spec", "storageClassName"]]?.stringValue { return s }
        return object[path: ["metadata", "annotations", betaAnnotation]]?.stringValue ?? ""
    }
}
