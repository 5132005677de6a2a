import Foundation

/// Settings of one API server process.
public struct APIServerConfiguration: Sendable {
    public var dataDirectory: String
    public var port: Int
    public var bindAddress: String
    /// The address the `kubernetes` Service's endpoints list for this server
    /// (`--advertise-address`); nil: the bind address if specific, else 127.0.0.1.
    public var advertiseAddress: String?
    /// How long an API server's identity Lease lives without renewal before the others drop
    /// it from the `kubernetes` endpoints (`--endpoint-lease-duration`).
    public var endpointLeaseDuration: Duration = .seconds(15)
    /// Events kept for resuming watches (`--watch-cache-size`).
    public var watchCacheSize: Int
    /// Serialized bytes those events may hold (`--watch-cache-bytes`).
    public var watchCacheBytes: Int = WatchHub.defaultMaxBytes
    /// The etcd cluster that holds the state (`--datastore-endpoint`); nil keeps it in SQLite
    /// at `databasePath`.
    public var etcd: EtcdConfiguration?
    /// How often watchers that allow bookmarks get one.
    public var bookmarkInterval: Duration
    /// Serve HTTPS with the generated PKI and require credentials (`--tls`); plain HTTP
    /// without authentication is for debugging only.
    public var tls: Bool
    /// Run the API server's own namespace finalizer (`NamespaceCleaner`): only when no
    /// controller manager runs with this server (`--disable-controllers`), since the
    /// controller manager's namespace controller does that job otherwise.
    public var runsNamespaceCleaner: Bool = false
    /// Service cluster IPs come from this IPv4 CIDR (`--service-cluster-ip-range`); its first
    /// address belongs to the `kubernetes` Service.
    public var serviceClusterIPRange: String = "10.96.0.0/12"
    /// Node ports of NodePort and LoadBalancer Services (`--service-node-port-range`).
    public var serviceNodePortRange: ClosedRange<Int> = 30000...32767
    /// Put a new at-rest encryption key first and re-encrypt every Secret with it at start
    /// (`--rotate-encryption-key`).
    public var rotateEncryptionKey: Bool = false

    /// Audit log level (`--audit-level`); `.none` writes no `audit.log`.
    public var auditLevel: AuditLevel = .metadata
    /// Rotate `audit.log` beyond this many MiB (`--audit-log-maxsize`).
    public var auditLogMaxSizeMiB: Int = 100
    /// Rotated audit logs kept (`--audit-log-maxbackup`).
    public var auditLogMaxBackups: Int = 5
    /// Read-only requests executing at once before 429 (`--max-requests-inflight`; 0 unlimited).
    public var maxRequestsInflight: Int = 400
    /// Writes executing at once before 429 (`--max-mutating-requests-inflight`; 0 unlimited).
    public var maxMutatingRequestsInflight: Int = 200
    /// Open watches per user before 429 (`--max-watches-per-user`; 0 unlimited).
    public var maxWatchesPerUser: Int = 1000
    /// How long a successful bearer-token authentication is remembered (`--token-cache-ttl`;
    /// zero checks every request).
    public var tokenCacheTTL: Duration = .seconds(10)
    /// How often kubelets and annotated pods are scraped for the metrics APIs (`--metrics-resolution`).
    public var metricsResolution: Duration = .seconds(15)
    /// How long Events are kept after their last write (`--event-ttl`).
    public var eventTTL: Duration = .seconds(3600)
    /// How often each APIService's backend is checked for the Available condition (`--apiservice-check-interval`).
    public var apiServiceCheckInterval: Duration = .seconds(10)
    /// Header, keep-alive idle and slow-body limits on client connections (`ConnectionTimeouts`).
    public var connectionTimeouts = ConnectionTimeouts()

    public init(dataDirectory: String, port: Int = 6443, bindAddress: String = "127.0.0.1", watchCacheSize: Int = 10_000,
                bookmarkInterval: Duration = .seconds(15), tls: Bool = true) {
        self.tls = tls
        self.dataDirectory = dataDirectory
        self.port = port
        self.bindAddress = bindAddress
        self.watchCacheSize = watchCacheSize
        self.bookmarkInterval = bookmarkInterval
    }

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("state.db") }
    public var kubeconfigPath: String { (dataDirectory as NSString).appendingPathComponent("kubeconfig.yaml") }
    /// Kubeconfig of the controller manager, with its own client certificate.
    public var controllerManagerKubeconfigPath: String {
        (dataDirectory as NSString).appendingPathComponent("controller-manager.kubeconfig")
    }
    /// Name of the node the built-in kubelet runs (`--node-name`); its kubeconfig is written
    /// to `kubeletKubeconfigPath`. Nil when the server runs no kubelet.
    public var nodeName: String?
    /// Kubeconfig of the built-in kubelet, with the node's own client certificate.
    public var kubeletKubeconfigPath: String { (dataDirectory as NSString).appendingPathComponent("kubelet.kubeconfig") }
    /// Certificates and keys (`pki/`).
    public var pkiDirectory: String { (dataDirectory as NSString).appendingPathComponent("pki") }
    /// The static bearer token file (`--token-auth-file` format).
    public var tokenFilePath: String { (dataDirectory as NSString).appendingPathComponent("tokens.csv") }
    /// The audit log (`AuditLog`), rotated to `audit.log.1` … `audit.log.N`.
    public var auditLogPath: String { (dataDirectory as NSString).appendingPathComponent("audit.log") }
    /// Keys that encrypt Secrets at rest (`EncryptionKeys`).
    public var encryptionKeysPath: String { (dataDirectory as NSString).appendingPathComponent("encryption-keys.json") }
}
