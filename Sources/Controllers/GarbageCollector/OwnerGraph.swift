import KubeClient
import KubeModel

/// The garbage collector's view of ownership across the kinds it watches: which resource an
/// ownerReference names, who owns an object and who depends on it, all read from informer
/// caches. Queue keys carry the resource: `plural|namespace/name`.
struct OwnerGraph: Sendable {
    /// One watched kind.
    struct Resource: Sendable, Hashable {
        let kind: String
        let path: ResourcePath
        var group: String { path.group }
    }

    static let foregroundFinalizer = "foregroundDeletion"
    static let orphanFinalizer = "orphan"

    let resources: [Resource]
    let caches: [ResourcePath: ObjectCache]
    /// Owner uid → dependents, fed by `handler(for:)`.
    let index = DependentsIndex()

    init(_ watched: [(Resource, ObjectCache)]) {
        resources = watched.map(\.0)
        caches = Dictionary(watched.map { ($0.0.path, $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - keys

    static func key(_ resource: Resource, _ object: JSONValue) -> String? {
        ObjectCache.key(of: object).map { resource.path.plural + "|" + $0 }
    }

    /// The resource and cache key named by a queue key.
    func parse(_ key: String) -> (Resource, String)? {
        guard let bar = key.firstIndex(of: "|") else { return nil }
        let plural = key[..<bar]
        guard let resource = resources.first(where: { $0.path.plural == plural }) else { return nil }
        return (resource, String(key[key.index(after: bar)...]))
    }

    func cache(_ resource: Resource) -> ObjectCache? { caches[resource.path] }

    // MARK: - ownership facts

    static func ownerReferences(_ object: JSONValue) -> [JSONValue] {
        object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
    }

    /// The watched resource an ownerReference names (by kind and API group; any version).
    func resource(for ref: JSONValue) -> Resource? {
        guard let kind = ref["kind"]?.stringValue, let apiVersion = ref["apiVersion"]?.stringValue else { return nil }
        let group = apiVersion.contains("/") ? String(apiVersion.prefix { $0 != "/" }) : ""
        return resources.first { $0.kind == kind && $0.group == group }
    }

    /// Marked for deletion and waiting for its blocking dependents to go first.
    static func isDeletingDependents(_ object: JSONValue) -> Bool {
        ObjectRules.isTerminating(object) && object.finalizers.contains(foregroundFinalizer)
    }

    /// Something the collector has to act on for this object itself.
    static func needsAttention(_ object: JSONValue) -> Bool {
        if !ownerReferences(object).isEmpty { return true }
        guard ObjectRules.isTerminating(object) else { return false }
        let f = object.finalizers
        return f.contains(foregroundFinalizer) || f.contains(orphanFinalizer)
    }

    /// Cached objects of every watched kind, in `namespace`, with an ownerReference to `uid`.
    func dependents(ofUID uid: String, namespace: String?) -> [(Resource, JSONValue)] {
        var found: [(Resource, JSONValue)] = []
        for entry in index.dependents(of: uid) {
            guard let resource = resources.first(where: { $0.path.plural == entry.plural }),
                  let o = caches[resource.path]?.get(entry.key),
                  namespace.map({ o.namespace == $0 }) ?? true,
                  Self.ownerReferences(o).contains(where: { $0["uid"]?.stringValue == uid }) else { continue }
            found.append((resource, o))
        }
        return found
    }

    /// Records `object`'s owners in the index (none when `deleted`).
    func indexOwners(_ resource: Resource, _ object: JSONValue, deleted: Bool) {
        guard let key = ObjectCache.key(of: object) else { return }
        let uids = deleted ? [] : Self.ownerReferences(object).compactMap { $0["uid"]?.stringValue }
        index.set(DependentsIndex.Entry(plural: resource.path.plural, key: key), ownerUIDs: uids)
    }

    /// Whether `dependent`'s reference to `uid` has `blockOwnerDeletion: true`.
    static func blocks(_ dependent: JSONValue, ownerUID uid: String) -> Bool {
        ownerReferences(dependent).contains { $0["uid"]?.stringValue == uid && $0["blockOwnerDeletion"]?.boolValue == true }
    }

    // MARK: - events

    /// One handler per watched kind: an object with owners (or GC finalizers) is looked at
    /// itself; its deletion or its being marked for deletion wakes its dependents; any change
    /// of a dependent wakes owners that wait for their dependents to go.
    func handler(for resource: Resource, enqueue: @escaping @Sendable (String) -> Void) -> InformerHandler {
        let graph = self
        @Sendable func touched(_ object: JSONValue, deleted: Bool) {
            graph.indexOwners(resource, object, deleted: deleted)
            if !deleted, OwnerGraph.needsAttention(object), let key = OwnerGraph.key(resource, object) { enqueue(key) }
            if deleted || ObjectRules.isTerminating(object), let uid = object.uid {
                for (r, d) in graph.dependents(ofUID: uid, namespace: object.namespace) {
                    if let key = OwnerGraph.key(r, d) { enqueue(key) }
                }
            }
            for ref in OwnerGraph.ownerReferences(object) {
                guard let r = graph.resource(for: ref), let name = ref["name"]?.stringValue,
                      let owner = graph.caches[r.path]?.get(namespace: object.namespace, name: name),
                      OwnerGraph.isDeletingDependents(owner), let key = OwnerGraph.key(r, owner) else { continue }
                enqueue(key)
            }
        }
        return InformerHandler(
            onAdd: { touched($0, deleted: false) },
            onUpdate: { old, new in
                touched(new, deleted: false)
                // A dropped reference may be what a foreground owner was waiting for.
                if OwnerGraph.ownerReferences(old) != OwnerGraph.ownerReferences(new) {
                    for ref in OwnerGraph.ownerReferences(old) {
                        guard let r = graph.resource(for: ref), let name = ref["name"]?.stringValue,
                              let owner = graph.caches[r.path]?.get(namespace: old.namespace, name: name),
                              let key = OwnerGraph.key(r, owner) else { continue }
                        enqueue(key)
                    }
                }
            },
            onDelete: { touched($0, deleted: true) })
    }
}
