import KubeClient
import Synchronization

/// The index over the Service and EndpointSlice informers' caches, rebuilt on the first
/// query after either changed (queries between changes share one build).
final class ClusterDNSIndexCache: Sendable {
    private let services: ObjectCache
    private let slices: ObjectCache
    private let state = Mutex<(dirty: Bool, index: ClusterDNSIndex)>((true, ClusterDNSIndex(services: [], endpointSlices: [])))

    init(services: ObjectCache, slices: ObjectCache) {
        self.services = services
        self.slices = slices
    }

    func invalidate() { state.withLock { $0.dirty = true } }

    func current() -> ClusterDNSIndex {
        state.withLock { s in
            if s.dirty {
                s.index = ClusterDNSIndex(services: services.list(), endpointSlices: slices.list())
                s.dirty = false
            }
            return s.index
        }
    }

    var handler: InformerHandler { .any { [weak self] _ in self?.invalidate() } }
}
