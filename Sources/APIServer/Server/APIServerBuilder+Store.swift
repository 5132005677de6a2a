import Logging

extension APIServerBuilder {
    /// The store the configuration names, and how to close it (nil: nothing to close).
    struct OpenedStore {
        var store: any Store
        var close: (@Sendable () -> Void)?
    }

    /// etcd when `--datastore-endpoint` is set, else the SQLite file under the data dir.
    static func openStore(_ config: APIServerConfiguration, metrics: StoreMetrics, logger: Logger) async throws -> OpenedStore {
        if let etcd = config.etcd {
            let store = try await EtcdStore.connect(etcd, historySize: config.watchCacheSize, historyBytes: config.watchCacheBytes,
                                                    metrics: metrics, logger: logger)
            logger.info("state in etcd", metadata: [
                "endpoints": .string(etcd.endpoints.map(\.description).joined(separator: ",")), "prefix": .string(etcd.prefix),
            ])
            return OpenedStore(store: store, close: { store.close() })
        }
        let store = try SQLiteStore(path: config.databasePath, historySize: config.watchCacheSize, historyBytes: config.watchCacheBytes,
                                    metrics: metrics, logger: logger)
        return OpenedStore(store: store, close: nil)
    }
}
