/// What a reconcile asks of its queue besides success or failure.
public struct ReconcileResult: Sendable, Equatable {
    /// Look at the key again after this long even if nothing changes (e.g. minReadySeconds).
    public var requeueAfter: Duration?

    /// Done until something changes.
    public static let done = ReconcileResult(requeueAfter: nil)

    /// Done for now; look again after `delay`.
    public static func requeue(after delay: Duration) -> ReconcileResult { ReconcileResult(requeueAfter: delay) }
}

/// One controller's logic: bring the object named by `key` (`namespace/name`) one step closer
/// to its desired state, reading informer caches. Thrown errors requeue the key with backoff.
public protocol Reconciler: Sendable {
    /// Reconciles one key; a key whose object is gone is simply done.
    func reconcile(key: String) async throws -> ReconcileResult
}
