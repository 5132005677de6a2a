import KubeModel

/// A step added to the scheduling cycle beside the built-in filters (volume binding, for
/// instance). `filter` runs, under the scheduler's lock, on the nodes the built-in filters
/// accept and must be a quick read of informer caches; `preBind` runs once the pod is assumed
/// on the chosen node and before its Binding is posted: a throw forgets the placement and
/// retries the pod with backoff.
protocol SchedulerPlugin: Sendable {
    /// Why `node` cannot take `pod`, or nil when it can.
    func filter(pod: PodInfo, node: NodeInfo) -> FilterFailure?
    /// Writes what must exist before the pod is bound to `node`.
    func preBind(pod: JSONValue, node: String) async throws
}
