import EtcdAPI
import Foundation
import GRPCCore
import KubeModel
import Logging

/// The store on an etcd v3 cluster, with kube-apiserver's storage semantics: the etcd
/// revision is the resourceVersion; a create is a transaction that only applies while the
/// key's `mod_revision` is 0, an update and a delete only while it is still the one read
/// (an update whose compare lost re-runs its transform on the newer object); lists are
/// ranges read at one revision, paged by key. Values are the objects' JSON without
/// `metadata.resourceVersion`, which every read sets from the key's `mod_revision`.
///
/// Watches are served from the same watch cache as the SQLite store's, filled by one etcd
/// watch on the whole prefix (`EtcdWatchFeed`), so writes made by another API server on the
/// same etcd reach this server's watchers too.
public final class EtcdStore: Store {
    let clients: EtcdClients
    let layout: EtcdKeyLayout
    let hub: WatchHub
    let logger: Logger
    let feed: EtcdWatchFeed
    /// Compaction outcomes, shown in `/metrics`.
    public let metrics: StoreMetrics

    /// Connects to etcd and starts the watch feed at etcd's current revision.
    /// - Parameters:
    ///   - historySize, historyBytes, watcherBacklog: the watch cache's bounds, as for SQLite.
    ///   - compactionInterval: how often to compact etcd's history to the revision seen one
    ///     interval earlier, as kube-apiserver does; nil leaves compaction to etcd's own
    ///     `--auto-compaction-*` settings.
    ///   - startTimeout: how long to wait for etcd to answer at all (it may be starting too).
    public static func connect(_ config: EtcdConfiguration, historySize: Int, historyBytes: Int = WatchHub.defaultMaxBytes,
                               watcherBacklog: Int = 10_000, compactionInterval: Duration? = .seconds(300),
                               startTimeout: Duration = .seconds(30), metrics: StoreMetrics = StoreMetrics(),
                               logger: Logger = Logger(label: "caravel.store.etcd")) async throws -> EtcdStore {
        try config.validate()
        let clients = try EtcdClients(config)
        do {
            let layout = EtcdKeyLayout(prefix: config.prefix)
            let deadline = ContinuousClock.now + startTimeout
            var revision: Int64
            while true {
                do {
                    revision = try await Self.currentRevision(clients, layout: layout)
                    break
                } catch {
                    guard ContinuousClock.now < deadline else { throw error }
                    logger.notice("waiting for etcd", metadata: ["error": .string("\(error)")])
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            let hub = WatchHub(capacity: max(1, historySize), maxBytes: historyBytes, lastRevision: revision, compactedRevision: revision,
                               perWatcherBuffer: watcherBacklog)
            let feed = EtcdWatchFeed(clients: clients, layout: layout, hub: hub, startAfter: revision,
                                     compactionInterval: compactionInterval, metrics: metrics, logger: logger)
            return EtcdStore(clients: clients, layout: layout, hub: hub, feed: feed, metrics: metrics, logger: logger)
        } catch {
            clients.close()
            throw error
        }
    }

    private init(clients: EtcdClients, layout: EtcdKeyLayout, hub: WatchHub, feed: EtcdWatchFeed, metrics: StoreMetrics, logger: Logger) {
        self.clients = clients
        self.layout = layout
        self.hub = hub
        self.feed = feed
        self.metrics = metrics
        self.logger = logger
        feed.start()
    }

    /// Stops the watch feed and closes the connections; watchers are ended.
    public func close() {
        feed.stop()
        hub.closeAll()
        clients.close()
    }

    // MARK: reads

    private static func currentRevision(_ clients: EtcdClients, layout: EtcdKeyLayout) async throws -> Int64 {
        var request = Etcdserverpb_RangeRequest()
        request.key = layout.etcdKey(EtcdKeyLayout.storeRoot + "/")
        request.countOnly = true
        let response = try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).range(request, options: EtcdClients.options) }
        return response.header.revision
    }

    public func currentRevision() async throws -> Int64 {
        try await mapErrors { try await Self.currentRevision(clients, layout: layout) }
    }

    /// The watch feed's newest revision is local and never ahead of etcd: only a revision
    /// beyond it costs a round trip.
    public func hasReached(_ revision: Int64) async throws -> Bool {
        if hub.lastRevision >= revision { return true }
        return try await currentRevision() >= revision
    }

    public func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation? {
        hub.observe(prefix: prefix, apply)
    }

    public func oldestRevision() -> Int64 { hub.compactedRevision + 1 }

    public func get(key: String) async throws -> StoredObject? {
        var request = Etcdserverpb_RangeRequest()
        request.key = layout.etcdKey(key)
        let response = try await range(request)
        return try response.kvs.first.map { try decode($0, key: key) }
    }

    public func list(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreListResult {
        let from = layout.etcdKey(prefix)
        var request = Etcdserverpb_RangeRequest()
        // Strictly after the previous page's last key; never before the prefix.
        request.key = startAfter.map { after in
            let k = layout.etcdKey(after)
            return k.lexicographicallyPrecedes(from) ? from : EtcdKeyLayout.successor(k)
        } ?? from
        request.rangeEnd = EtcdKeyLayout.rangeEnd(forPrefix: from)
        if let limit { request.limit = Int64(max(1, limit)) }
        if let atRevision { request.revision = atRevision }
        let response = try await range(request, requested: atRevision)
        var items: [StoredObject] = []
        items.reserveCapacity(response.kvs.count)
        for kv in response.kvs {
            guard let key = layout.storeKey(kv.key) else { continue }
            items.append(try decode(kv, key: key))
        }
        let remaining = response.more ? Int(response.count) - items.count : 0
        return StoreListResult(items: items, revision: atRevision ?? response.header.revision, hasMore: response.more,
                               remaining: response.more ? remaining : nil)
    }

    func range(_ request: Etcdserverpb_RangeRequest, requested: Int64? = nil) async throws -> Etcdserverpb_RangeResponse {
        try await mapErrors(requested: requested) {
            try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).range(request, options: EtcdClients.options) }
        }
    }

    /// Turns etcd's refusals into the store's errors: a compacted revision is `compacted`
    /// (410 Gone to clients), anything else an I/O failure.
    func mapErrors<R: Sendable>(requested: Int64? = nil, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as StoreError {
            throw error
        } catch let error as RPCError {
            if error.message.contains("required revision has been compacted") {
                let requested = requested ?? 0
                throw StoreError.compacted(requested: requested, oldest: requested + 1)
            }
            throw StoreError.io("etcd: \(error.message)")
        }
    }

    // MARK: values

    /// The object stored in `kv`, with its resourceVersion from the key's last write.
    func decode(_ kv: Mvccpb_KeyValue, key: String) throws -> StoredObject {
        StoredObject(key: key, revision: kv.modRevision, object: try Self.decodeValue(kv.value, key: key, revision: kv.modRevision))
    }

    static func decodeValue(_ value: Data, key: String, revision: Int64) throws -> JSONValue {
        var object: JSONValue
        do {
            object = try JSONParser.parse(value)
        } catch {
            throw StoreError.io("corrupt value at \(key): \(error)")
        }
        object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return object
    }

    /// The bytes stored for `object`: its JSON without the resourceVersion, which etcd keeps.
    static func encodeValue(_ object: JSONValue) -> Data {
        var o = object
        o[path: ["metadata", "resourceVersion"]] = nil
        return Data(JSONWriter.bytes(o))
    }

    /// `object` as read back after a write at `revision`.
    static func stamped(_ object: JSONValue, revision: Int64) -> JSONValue {
        var o = object
        o[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return o
    }

    // MARK: watch

    public func watch(prefix: String, after: Int64) throws -> WatchSubscription {
        try hub.subscribe(prefix: prefix, after: after)
    }

    public func watchFromNow(prefix: String) -> (WatchSubscription, Int64) {
        hub.subscribeNow(prefix: prefix)
    }

    /// Asks etcd for a progress notification on the feed; when it comes, every watcher gets a
    /// progress mark at the revision etcd vouches for.
    public func broadcastProgress() { feed.requestProgress() }
}
