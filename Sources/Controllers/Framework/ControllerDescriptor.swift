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

    init(name: String, workers: Int, wire: @escaping @Sendable (ControllerWiring) -> any Reconciler) {
        self.name = name
        self.workers = workers
        self.wire = wire
    }
}

/// What a controller's wiring works with: the shared informers and its own queue.
struct ControllerWiring: Sendable {
    let informers: InformerFactory
    /// Adds a key to this controller's queue.
    let enqueue: @Sendable (String) -> Void

    /// Watches `resource`: `handler` sees every event of its shared informer.
    func watch(_ resource: ResourcePath, _ handler: InformerHandler) {
        informers.informer(for: resource).addHandler(handler)
    }

    /// Watches `resource`, enqueueing the key of every object that changes.
    func watchOwn(_ resource: ResourcePath) {
        watch(resource, ControllerEvents.ownHandler(enqueue))
    }

    /// The shared cache of `resource` (its informer runs and syncs even if nobody watches it).
    func cache(_ resource: ResourcePath) -> ObjectCache {
        informers.informer(for: resource).cache
    }
}
