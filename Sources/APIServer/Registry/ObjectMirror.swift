import KubeModel
import Synchronization

/// An in-memory copy of one resource that admission reads on every write (namespaces, quotas,
/// limit ranges, priority classes, service accounts), as kube-apiserver's admission plugins
/// read informers instead of etcd. It is loaded on first use and then kept current by
/// observing the store's commits: the SQLite store publishes before a write returns, so the
/// copy holds every acknowledged write; over etcd it trails by the watch feed's delay, as an
/// informer does. Until it is loaded, or when the store cannot be observed, it answers nil and
/// the caller reads the store.
public final class ObjectMirror: Sendable {
    let prefix: String
    let namespaced: Bool

    struct State {
        enum Phase { case empty, loading, loaded, unavailable }
        var phase = Phase.empty
        /// Bumped on every reset: changes from an earlier observation are ignored.
        var generation = 0
        /// namespace ("" when cluster-scoped) → name → object
        var objects: [String: [String: JSONValue]] = [:]
        /// Changes seen while the initial list is read, applied after it.
        var pending: [StoreEvent] = []
    }

    private let state = Mutex(State())

    init(prefix: String, namespaced: Bool) {
        self.prefix = prefix
        self.namespaced = namespaced
    }

    /// The objects of `namespace` (all of them when nil), in key order; nil when the mirror
    /// cannot answer yet.
    func list(namespace: String?, store: any Store) async -> [JSONValue]? {
        guard await ready(store) else { return nil }
        return state.withLock { s -> [JSONValue]? in
            guard s.phase == .loaded else { return nil }
            if let namespace {
                return (s.objects[namespace] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
            }
            return s.objects.sorted { $0.key < $1.key }.flatMap { $0.value.sorted { $0.key < $1.key }.map(\.value) }
        }
    }

    /// The object, `.some(nil)` when the loaded mirror does not hold it, nil when it cannot answer.
    func object(namespace: String?, name: String, store: any Store) async -> JSONValue?? {
        guard await ready(store) else { return nil }
        return state.withLock { s -> JSONValue?? in
            guard s.phase == .loaded else { return nil }
            return .some(s.objects[namespace ?? ""]?[name])
        }
    }

    /// Loads the mirror on first use. Callers that arrive while another loads read the store.
    private func ready(_ store: any Store) async -> Bool {
        let start: Int? = state.withLock { s in
            guard s.phase == .empty else { return nil }
            s.phase = .loading
            s.pending = []
            return s.generation
        }
        guard let generation = start else { return state.withLock { $0.phase == .loaded } }
        guard let observation = store.observe(prefix: prefix, { [weak self] change in self?.apply(change, generation: generation) }) else {
            state.withLock { $0.phase = .unavailable }
            return false
        }
        let revision = observation.revision
        var loaded: [StoredObject] = []
        do {
            var after: String?
            // The first page pins the revision the rest are read at. A store that has published
            // nothing yet has no revision to pin: its current state is read, and the events seen
            // meanwhile, applied in order over it, end at the same objects.
            var pinned: Int64? = revision > 0 ? revision : nil
            repeat {
                let page = try await store.list(prefix: prefix, startAfter: after, limit: 500, atRevision: pinned)
                loaded += page.items
                pinned = pinned ?? page.revision
                after = page.hasMore ? page.items.last?.key : nil
            } while after != nil
        } catch {
            // Tried again on the next use; this observation ends.
            observation.cancel()
            state.withLock { s in
                if s.generation == generation { s.phase = .empty; s.generation += 1 }
            }
            return false
        }
        return state.withLock { s in
            guard s.generation == generation, s.phase == .loading else { return false }
            for o in loaded { put(o.key, o.object, into: &s) }
            for e in s.pending where e.revision > revision { applyEvent(e, to: &s) }
            s.pending = []
            s.phase = .loaded
            return true
        }
    }

    private func apply(_ change: ObservedChange, generation: Int) {
        state.withLock { s in
            guard s.generation == generation else { return }
            switch change {
            case .reset:
                s = State(generation: generation + 1)
            case .event(let e):
                switch s.phase {
                case .loading: s.pending.append(e)
                case .loaded: applyEvent(e, to: &s)
                case .empty, .unavailable: break
                }
            }
        }
    }

    private func applyEvent(_ e: StoreEvent, to s: inout State) {
        if e.kind == .deleted {
            guard let (ns, name) = split(e.key) else { return }
            s.objects[ns]?[name] = nil
            if s.objects[ns]?.isEmpty == true { s.objects[ns] = nil }
        } else {
            put(e.key, e.object, into: &s)
        }
    }

    private func put(_ key: String, _ object: JSONValue, into s: inout State) {
        guard let (ns, name) = split(key) else { return }
        s.objects[ns, default: [:]][name] = object
    }

    /// `(namespace, name)` of a key under the prefix.
    private func split(_ key: String) -> (String, String)? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard namespaced else { return ("", String(rest)) }
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }
}

extension Registry {
    /// The resources admission reads on every write, mirrored in memory.
    static let mirrored: [(group: String, plural: String)] = [
        ("", "namespaces"), ("", "resourcequotas"), ("", "limitranges"), ("", "serviceaccounts"), ("scheduling.k8s.io", "priorityclasses"),
    ]

    static func mirrors(_ catalog: ResourceCatalog) -> [String: ObjectMirror] {
        var out: [String: ObjectMirror] = [:]
        for (group, plural) in mirrored {
            guard let def = catalog.strategy(group: group, plural: plural)?.definition else { continue }
            out[def.groupResource] = ObjectMirror(prefix: ResourceCatalog.keyPrefix(def, namespace: nil), namespaced: def.namespaced)
        }
        return out
    }

    /// The stored object as admission sees it: from the resource's mirror when it holds it,
    /// else from the store (an object the mirror has not seen yet, over etcd, is read there).
    func admissionFind(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> JSONValue? {
        if let mirror = mirrors[strategy.definition.groupResource],
           case .some(.some(let object)) = await mirror.object(namespace: namespace, name: name, store: store) {
            return object
        }
        return try await find(strategy, namespace: namespace, name: name)
    }

    /// Every object of a resource in one namespace (or all), as admission sees them.
    func admissionList(_ strategy: any ResourceStrategy, namespace: String?) async throws(APIError) -> [JSONValue] {
        if let mirror = mirrors[strategy.definition.groupResource], let objects = await mirror.list(namespace: namespace, store: store) {
            return objects
        }
        return try await listAll(strategy, namespace: namespace)
    }
}
