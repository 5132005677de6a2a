/// etcd v3's gRPC API as generated from `proto/` (see README.md): the `Etcdserverpb_*` and
/// `Mvccpb_*` messages and the KV, Watch, Lease and Maintenance clients.
public enum EtcdAPI {
    /// The etcd release the protos were taken from.
    public static let protoVersion = "v3.4.45"
}
