import KubeClient
import KubeModel
import Synchronization

/// One pod informer for many fake nodes: a single watch on every bound pod
/// (`spec.nodeName!=`), each event handed to the handler of the pod's node. Thousands of
/// simulated kubelets then cost the API server one watch instead of one each (and stay under
/// its per-user watch cap), as kwok does.
public final class NodePodFeed: Sendable {
    let informer: Informer<ContinuousClock>
    private let handlers = Mutex<[String: InformerHandler]>([:])

    public init(client: KubeRESTClient) {
        informer = Informer(source: RESTListWatch(client: client, path: "/api/v1/pods", baseQuery: ["fieldSelector": "spec.nodeName!="]))
        informer.addHandler(InformerHandler(
            onAdd: { [weak self] pod in await self?.handler(for: pod)?.onAdd(pod) },
            onUpdate: { [weak self] old, new in
                // spec.nodeName never changes once set; a pod first seen bound is an add for its node.
                guard let h = self?.handler(for: new) else { return }
                if Self.nodeName(old) == Self.nodeName(new) { await h.onUpdate(old, new) } else { await h.onAdd(new) }
            },
            onDelete: { [weak self] pod in await self?.handler(for: pod)?.onDelete(pod) }))
    }

    /// Lists and watches until cancelled.
    public func run() async { await informer.run() }

    /// Sends `node`'s pods to `handler` from now on, after handing it those already known.
    /// Returns once the feed has synced and the known pods were delivered (false if cancelled
    /// first): from then on the node's view of its pods is complete.
    public func subscribe(node: String, _ handler: InformerHandler) async -> Bool {
        handlers.withLock { $0[node] = handler }
        guard await informer.waitForSync() else { return false }
        for pod in informer.cache.list() where Self.nodeName(pod) == node {
            await handler.onAdd(pod)
        }
        return true
    }

    /// Stops delivering to `node` (its kubelet stopped).
    public func unsubscribe(node: String) {
        _ = handlers.withLock { $0.removeValue(forKey: node) }
    }

    /// Nodes subscribed now.
    public var subscribers: Int { handlers.withLock { $0.count } }

    static func nodeName(_ pod: JSONValue) -> String? {
        pod[path: ["spec", "nodeName"]]?.stringValue
    }

    private func handler(for pod: JSONValue) -> InformerHandler? {
        guard let node = Self.nodeName(pod), !node.isEmpty else { return nil }
        return handlers.withLock { $0[node] }
    }
}
