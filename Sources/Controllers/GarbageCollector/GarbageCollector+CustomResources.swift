import KubeClient
import KubeModel

/// The collector's custom resources: their kinds come and go with CustomResourceDefinitions,
/// so they have no informers here. A sweep lists every established definition's kind and
/// queues the objects that need the collector (those with owners, or deleting with the
/// `foregroundDeletion` or `orphan` finalizer); each is then read live and handled like a
/// built-in object. Owners waiting for custom dependents are looked at again every second.
extension GarbageCollector {
    static let customSweepInterval: Duration = .seconds(3)

    /// Queues the custom objects that need attention, and the next sweep.
    func sweepCustomResources() async -> ReconcileResult {
        for collection in customCollections() {
            guard let list = try? await client.list(collection.path) else { continue }
            for item in list["items"]?.arrayValue ?? [] where OwnerGraph.needsAttention(item) {
                guard let name = item.name else { continue }
                enqueue(CustomObjectKey(collection: collection, namespace: item.namespace, name: name).description)
            }
        }
        return .requeue(after: Self.customSweepInterval)
    }

    /// One step for a custom object, read live. An owner of a kind not watched here is looked
    /// at again by the next sweep rather than by its own recheck.
    func reconcileCustom(_ key: CustomObjectKey) async throws -> ReconcileResult {
        let object: JSONValue
        do {
            object = try await client.get(key.collection.inNamespace(key.namespace).named(key.name).path)
        } catch let e as KubeAPIError where e.isNotFound {
            return .done
        }
        return try await reconcile(object, collection: key.collection, recheckUnwatched: false)
    }

    /// The collections of the established custom kinds, at a served version.
    func customCollections() -> [ResourcePath] {
        (definitions?.list() ?? []).compactMap(CustomObjectKey.collection(of:))
    }

    /// Every custom object in `namespace` (all namespaces when nil), read from the server; a
    /// kind that cannot be listed now (its definition just went) is skipped.
    func liveCustomObjects(namespace: String?) async -> [(ResourcePath, JSONValue)] {
        var found: [(ResourcePath, JSONValue)] = []
        for collection in customCollections() {
            guard let list = try? await client.list(collection.inNamespace(namespace).path) else { continue }
            for item in list["items"]?.arrayValue ?? [] { found.append((collection, item)) }
        }
        return found
    }
}

/// The queue key of a custom object, `~group/version/plural|namespace/name`, apart from the
/// built-in kinds' `plural|namespace/name` keys; `~sweep` queues a sweep.
struct CustomObjectKey: Sendable, Hashable, CustomStringConvertible {
    static let sweep = "~sweep"
    static let definitionsPath = ResourcePath(group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions")

    /// The kind's collection, without namespace.
    let collection: ResourcePath
    let namespace: String?
    let name: String

    init(collection: ResourcePath, namespace: String?, name: String) {
        self.collection = ResourcePath(group: collection.group, version: collection.version, plural: collection.plural)
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    init?(parsing key: String) {
        guard key.hasPrefix("~"), let bar = key.firstIndex(of: "|") else { return nil }
        let kind = key[key.index(after: key.startIndex)..<bar].split(separator: "/", omittingEmptySubsequences: false)
        let object = key[key.index(after: bar)...].split(separator: "/", maxSplits: 1)
        guard kind.count == 3, !object.isEmpty else { return nil }
        let collection = ResourcePath(group: String(kind[0]), version: String(kind[1]), plural: String(kind[2]))
        if object.count == 2 {
            self.init(collection: collection, namespace: String(object[0]), name: String(object[1]))
        } else {
            self.init(collection: collection, namespace: nil, name: String(object[0]))
        }
    }

    var description: String {
        "~\(collection.group)/\(collection.version)/\(collection.plural)|" + ObjectCache.key(namespace: namespace, name: name)
    }

    /// The collection a definition serves once Established: its storage version when served,
    /// else its first served version.
    static func collection(of crd: JSONValue) -> ResourcePath? {
        let established = crd[path: ["status", "conditions"]]?.arrayValue?.contains {
            $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
        } ?? false
        guard established, crd[path: ["metadata", "deletionTimestamp"]] == nil,
              let group = crd[path: ["spec", "group"]]?.stringValue,
              let plural = crd[path: ["spec", "names", "plural"]]?.stringValue else { return nil }
        let served = (crd[path: ["spec", "versions"]]?.arrayValue ?? []).filter { $0["served"]?.boolValue == true }
        let version = served.first { $0["storage"]?.boolValue == true } ?? served.first
        guard let name = version?["name"]?.stringValue else { return nil }
        return ResourcePath(group: group, version: name, plural: plural)
    }
}
