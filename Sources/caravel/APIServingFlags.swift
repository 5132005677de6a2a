import APIServer
import ArgumentParser
import Foundation
import KubeModel

/// The API server's own settings, the same for `caravel server` and `caravel apiserver`:
/// where it listens, its watch cache, TLS, audit, request limits and the periodic work it does.
struct APIServingFlags: ParsableArguments {
    @Option(help: "Port the API server listens on.")
    var port: Int = 6443

    @Option(help: "Address the API server binds to.")
    var bindAddress: String = "127.0.0.1"

    @Option(help: "Number of recent events kept for resuming watches (at least 1000).")
    var watchCacheSize: Int = 10_000

    @Option(help: "Serialized size the watch cache's events may take, as a quantity (at least 1Mi).")
    var watchCacheBytes: String = "64Mi"

    @Option(help: "Serve HTTPS with generated certificates and require credentials; false serves plain HTTP without authentication (debugging only).")
    var tls: Bool = true

    @Flag(help: "Add a new encryption key for Secrets at rest (DIR/encryption-keys.json) and re-encrypt every Secret with it.")
    var rotateEncryptionKey = false

    @Option(help: "Audit log level (DIR/audit.log): None or Metadata. Request bodies are never logged.")
    var auditLevel: String = "Metadata"

    @Option(name: .customLong("audit-log-maxsize"), help: "Rotate the audit log when it exceeds this many MiB.")
    var auditLogMaxSize: Int = 100

    @Option(name: .customLong("audit-log-maxbackup"), help: "Rotated audit log files to keep.")
    var auditLogMaxBackup: Int = 5

    @Option(help: "Read-only requests executing at once before 429 TooManyRequests (0: unlimited).")
    var maxRequestsInflight: Int = 400

    @Option(help: "Mutating requests executing at once before 429 TooManyRequests (0: unlimited).")
    var maxMutatingRequestsInflight: Int = 200

    @Option(help: "Open watches per user before 429 TooManyRequests (0: unlimited).")
    var maxWatchesPerUser: Int = 1000

    @Option(help: "How long a successful bearer-token authentication (ServiceAccount JWT, bootstrap token) is remembered, e.g. 10s; 0s checks every request.")
    var tokenCacheTTL: Duration = .seconds(10)

    @Option(help: "How often the API server scrapes every Ready node's kubelet (and annotated pods) for the metrics APIs, e.g. 1s or 15s.")
    var metricsResolution: Duration = .seconds(15)

    @Option(help: "How long Events are kept after their last write, e.g. 1h or 30m.")
    var eventTTL: Duration = .seconds(3600)

    @Option(help: "How often the API server checks that each aggregated API server (an APIService with a service) answers, e.g. 10s.")
    var apiserviceCheckInterval: Duration = .seconds(10)

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard watchCacheSize >= 1000 else { throw ValidationError("--watch-cache-size must be at least 1000") }
        guard let bytes = Quantity.parse(watchCacheBytes)?.value, bytes >= 1 << 20 else {
            throw ValidationError("--watch-cache-bytes must be a quantity of at least 1Mi, got \"\(watchCacheBytes)\"")
        }
        guard AuditLevel(rawValue: auditLevel) != nil else { throw ValidationError("--audit-level must be None or Metadata") }
        guard auditLogMaxSize >= 1 else { throw ValidationError("--audit-log-maxsize must be at least 1") }
        guard auditLogMaxBackup >= 0 else { throw ValidationError("--audit-log-maxbackup must not be negative") }
        guard metricsResolution >= .milliseconds(100) else { throw ValidationError("--metrics-resolution must be at least 100ms") }
        guard eventTTL >= .seconds(1) else { throw ValidationError("--event-ttl must be at least 1s") }
        guard apiserviceCheckInterval >= .seconds(1) else { throw ValidationError("--apiservice-check-interval must be at least 1s") }
        guard tokenCacheTTL >= .zero, tokenCacheTTL <= .seconds(3600) else { throw ValidationError("--token-cache-ttl must be between 0s and 1h") }
    }

    /// The server's configuration with these settings, over `dataDirectory`.
    func configuration(dataDirectory: String) -> APIServerConfiguration {
        var config = APIServerConfiguration(dataDirectory: dataDirectory, port: port, bindAddress: bindAddress,
                                            watchCacheSize: watchCacheSize, tls: tls)
        config.watchCacheBytes = Int(Quantity.parse(watchCacheBytes)?.value ?? Int64(WatchHub.defaultMaxBytes))
        config.rotateEncryptionKey = rotateEncryptionKey
        config.auditLevel = AuditLevel(rawValue: auditLevel) ?? .metadata
        config.auditLogMaxSizeMiB = auditLogMaxSize
        config.auditLogMaxBackups = auditLogMaxBackup
        config.maxRequestsInflight = maxRequestsInflight
        config.maxMutatingRequestsInflight = maxMutatingRequestsInflight
        config.maxWatchesPerUser = maxWatchesPerUser
        config.tokenCacheTTL = tokenCacheTTL
        config.metricsResolution = metricsResolution
        config.eventTTL = eventTTL
        config.apiServiceCheckInterval = apiserviceCheckInterval
        return config
    }
}
