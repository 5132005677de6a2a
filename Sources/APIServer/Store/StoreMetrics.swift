import KubeModel

/// Counters of the store's background work, rendered in `/metrics`.
public final class StoreMetrics: Sendable {
    private let counts = Locked<(compactions: Int, failures: Int)>((0, 0))

    public init() {}

    /// Compactions that removed history as planned.
    public var compactions: Int { counts.value.compactions }
    /// Compactions that failed (the history stays until a later one succeeds).
    public var compactionFailures: Int { counts.value.failures }

    func compactionSucceeded() { counts.withLock { $0.compactions += 1 } }
    func compactionFailed() { counts.withLock { $0.failures += 1 } }

    /// The counters in the Prometheus text format.
    public func render() -> String {
        let (ok, failed) = counts.value
        return """
            # HELP caravel_storage_compactions_total Compactions of the store's history that succeeded.
            # TYPE caravel_storage_compactions_total counter
            caravel_storage_compactions_total \(ok)
            # HELP caravel_storage_compaction_failures_total Compactions of the store's history that failed.
            # TYPE caravel_storage_compaction_failures_total counter
            caravel_storage_compaction_failures_total \(failed)

            """
    }
}
