import KubeClient

/// One controller as the manager runs it: its name, how many workers reconcile its keys at
/// once, and its wiring. `wire` registers what the controller watches (handlers on shared
/// informers that turn events into keys for its queue) and returns its reconciler; the manager
/// calls it once per leadership term, with fresh informers and a fresh queue.
struct ControllerDescriptor: Sendable {
    /// Names the controller in logs (Kubernetes' controller names where there is one).
    let name: String
    /// Concurrent reconciles; 1 where each step must see the previous one.
    let workers: Int
    /// Registers the watches and builds the reconciler.
    let wire: @Sendable (ControllerWiring) -> any Reconciler
    /// Orders the controller's queue: given the shared informers, a key's priority (higher
    /// first); nil keeps arrival order.
    let queuePriority: (@Sendable (InformerFactory) -> @Sendable (String) -> Int)?

    init(name: String, workers: Int, queuePriority: (@Sendable (InformerFactory) -> @Sendable (String) -> Int)? = nil,
         wire: @escaping @Sendable (ControllerWiring) -> any Reconciler) {
        self.name = name
        self.workers = workers
        self.queuePriority = queuePriority
        self.wire = wire
    }
}
