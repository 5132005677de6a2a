import KubeClient
import KubeModel

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

    /// Watches pods: every event of a pod enqueues each object of `objects` in the pod's
    /// namespace (quotas, disruption budgets: objects that sum over their namespace's pods).
    func watchPodsOfNamespace(enqueueing objects: ObjectCache) {
        watchMembers(of: .core("pods"), enqueueing: objects)
    }

    /// Watches `resource`: every event of one of its objects enqueues each object of
    /// `objects` in the same namespace.
    func watchMembers(of resource: ResourcePath, enqueueing objects: ObjectCache) {
        let enqueue = self.enqueue
        watch(resource, .any { member in
            guard let ns = member.namespace else { return }
            for object in objects.list(namespace: ns) { if let key = ObjectCache.key(of: object) { enqueue(key) } }
        })
    }

    /// The shared cache of `resource` (its informer runs and syncs even if nobody watches it).
    func cache(_ resource: ResourcePath) -> ObjectCache {
        informers.informer(for: resource).cache
    }
}
