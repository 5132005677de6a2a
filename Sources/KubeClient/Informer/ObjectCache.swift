import KubeModel
import NIOConcurrencyHelpers

/// An informer's local copy of one resource, keyed `namespace/name` (just `name` when
/// cluster-scoped). Reads are synchronous snapshots: objects are values, so a caller can change
/// its copy freely without touching the cache.
public final class ObjectCache: Sendable {
    private struct State {
        var objects: [String: JSONValue] = [:]
        var byNamespace: [String: Set<String>] = [:]
        /// Keys of the objects bound to each node (`spec.nodeName`: pods), as client-go's
        /// pod indexer by node: a node's pods without a pass over every pod.
        var byNode: [String: Set<String>] = [:]

        mutating func index(_ key: String, node: String?, was old: String?) {
            guard node != old else { return }
            if let old {
                byNode[old]?.remove(key)
                if byNode[old]?.isEmpty == true { byNode[old] = nil }
            }
            if let node { byNode[node, default: []].insert(key) }
        }
    }

    private let state = NIOLockedValueBox(State())

    /// An empty cache.
    public init() {}

    /// The cache key of an object: `namespace/name`, or `name` without a namespace.
    public static func key(of object: JSONValue) -> String? {
        guard let name = object.name, !name.isEmpty else { return nil }
        return key(namespace: object.namespace, name: name)
    }

    /// The cache key for a namespace and a name.
    public static func key(namespace: String?, name: String) -> String {
        guard let namespace, !namespace.isEmpty else { return name }
        return namespace + "/" + name
    }

    /// Splits a key into namespace (`nil` when cluster-scoped) and name.
    public static func split(_ key: String) -> (namespace: String?, name: String) {
        guard let slash = key.firstIndex(of: "/") else { return (nil, key) }
        return (String(key[..<slash]), String(key[key.index(after: slash)...]))
    }

    /// The object stored under `key`.
    public func get(_ key: String) -> JSONValue? { state.withLockedValue { $0.objects[key] } }

    /// The object called `name` in `namespace`.
    public func get(namespace: String?, name: String) -> JSONValue? { get(Self.key(namespace: namespace, name: name)) }

    /// Every object.
    public func list() -> [JSONValue] { state.withLockedValue { Array($0.objects.values) } }

    /// Every object of one namespace.
    public func list(namespace: String) -> [JSONValue] {
        state.withLockedValue { s in (s.byNamespace[namespace] ?? []).compactMap { s.objects[$0] } }
    }

    /// Every object bound to node `name` (`spec.nodeName`).
    public func list(nodeName name: String) -> [JSONValue] {
        state.withLockedValue { s in (s.byNode[name] ?? []).compactMap { s.objects[$0] } }
    }

    static func nodeName(of object: JSONValue) -> String? {
        guard let name = object[path: ["spec", "nodeName"]]?.stringValue, !name.isEmpty else { return nil }
        return name
    }

    /// Every key.
    public func keys() -> [String] { state.withLockedValue { Array($0.objects.keys) } }

    /// Number of objects.
    public var count: Int { state.withLockedValue { $0.objects.count } }

    /// Stores `object`; answers what it replaced.
    @discardableResult
    func put(_ object: JSONValue) -> JSONValue? {
        guard let key = Self.key(of: object) else { return nil }
        let node = Self.nodeName(of: object)
        return state.withLockedValue { s in
            s.byNamespace[object.namespace ?? "", default: []].insert(key)
            let old = s.objects.updateValue(object, forKey: key)
            s.index(key, node: node, was: old.flatMap(Self.nodeName))
            return old
        }
    }

    /// Removes the object under `key`; answers it.
    @discardableResult
    func remove(_ key: String) -> JSONValue? {
        state.withLockedValue { s in
            guard let old = s.objects.removeValue(forKey: key) else { return nil }
            let ns = old.namespace ?? ""
            s.byNamespace[ns]?.remove(key)
            if s.byNamespace[ns]?.isEmpty == true { s.byNamespace[ns] = nil }
            s.index(key, node: nil, was: Self.nodeName(of: old))
            return old
        }
    }

    /// Replaces the whole content (after a list); answers what was there before.
    func replace(with objects: [JSONValue]) -> [String: JSONValue] {
        var fresh = State()
        for o in objects {
            guard let key = Self.key(of: o) else { continue }
            fresh.objects[key] = o
            fresh.byNamespace[o.namespace ?? "", default: []].insert(key)
            fresh.index(key, node: Self.nodeName(of: o), was: nil)
        }
        return state.withLockedValue { s in
            defer { s = fresh }
            return s.objects
        }
    }
}
