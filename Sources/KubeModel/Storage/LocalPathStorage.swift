/// Names of the built-in local-path storage that the API server (the default StorageClass),
/// the controllers (provisioner, binding) and the kubelet (directories) agree on.
public enum LocalPathStorage {
    /// The default StorageClass created at the first start.
    public static let className = "local-path"
    /// The provisioner of that class, served by the controller manager.
    public static let provisioner = "caravel.dev/local-path"
    /// Where a node keeps the claims' directories, under its kubelet root directory.
    public static let volumesDirectoryName = "storage"
    /// Set by each kubelet on its Node: the absolute directory holding its claims' volumes.
    public static let nodeDirectoryAnnotation = "storage.caravel.dev/local-path"
    /// The scheduler's choice of node for a WaitForFirstConsumer claim.
    public static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"
    /// Names the provisioner expected to provision a claim (the new and the beta key).
    public static let storageProvisionerAnnotation = "volume.kubernetes.io/storage-provisioner"
    public static let betaStorageProvisionerAnnotation = "volume.beta.kubernetes.io/storage-provisioner"
    /// Set on a volume by the provisioner that made it.
    public static let provisionedByAnnotation = "pv.kubernetes.io/provisioned-by"

    /// The directory of a claim's volume in a node's local-path directory:
    /// `<directory>/<pv-name>_<namespace>_<claim>`, the layout of k3s' local-path provisioner.
    public static func directory(in nodeDirectory: String, volumeName: String, namespace: String, claim: String) -> String {
        "\(nodeDirectory)/\(volumeName)_\(namespace)_\(claim)"
    }
}
