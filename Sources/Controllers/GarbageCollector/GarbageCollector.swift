import KubeClient
import KubeModel

/// Deletes objects whose owners are gone and carries out foreground and orphan deletion
/// (Kubernetes' garbage collector), for the kinds the controller manager watches.
///
/// Keys are `plural|namespace/name` (see `OwnerGraph`). For each key, one step:
/// - an object marked for deletion with the `orphan` finalizer: its dependents lose their
///   ownerReferences to it, then the finalizer goes (and with the last one, the object);
/// - with the `foregroundDeletion` finalizer: its dependents are woken (they delete themselves,
///   below); once no dependent blocks it, the finalizer goes;
/// - otherwise, an object with ownerReferences: with no owner left (gone, or same name with
///   another uid) or only owners deleting in foreground, it is deleted; with some owners
///   left, references to the others are removed.
/// Owners are read from the informer caches; a cache miss is confirmed with a live GET, since
/// an owner may simply not have reached our cache yet. An owner of a kind not watched here (a
/// custom resource) is found through discovery and read live; its dependents are looked at
/// again every `unwatchedOwnerRecheck`, since no event says when such an owner goes.
/// Custom resources themselves, owners or dependents, are found by a periodic sweep of the
/// established CustomResourceDefinitions' kinds (`GarbageCollector+CustomResources`).
public struct GarbageCollector: Reconciler {
    static let resources: [OwnerGraph.Resource] = [
        .init(kind: "Pod", path: .core("pods")),
        .init(kind: "ReplicaSet", path: ResourcePath(group: "apps", version: "v1", plural: "replicasets")),
        .init(kind: "Deployment", path: ResourcePath(group: "apps", version: "v1", plural: "deployments")),
        .init(kind: "Job", path: ResourcePath(group: "batch", version: "v1", plural: "jobs")),
        .init(kind: "CronJob", path: ResourcePath(group: "batch", version: "v1", plural: "cronjobs")),
        .init(kind: "DaemonSet", path: ResourcePath(group: "apps", version: "v1", plural: "daemonsets")),
        .init(kind: "StatefulSet", path: ResourcePath(group: "apps", version: "v1", plural: "statefulsets")),
        .init(kind: "ControllerRevision", path: ResourcePath(group: "apps", version: "v1", plural: "controllerrevisions")),
        .init(kind: "ReplicationController", path: .core("replicationcontrollers")),
        .init(kind: "PersistentVolumeClaim", path: .core("persistentvolumeclaims")),
        // What operators commonly make for their custom resources.
        .init(kind: "ConfigMap", path: .core("configmaps")),
        .init(kind: "Secret", path: .core("secrets")),
        .init(kind: "Service", path: .core("services")),
    ]

    let client: any ResourceClient
    let graph: OwnerGraph
    let enqueue: @Sendable (String) -> Void
    let kinds: ResourceKindResolver
    /// The CustomResourceDefinitions, whose kinds the custom resource sweep lists.
    let definitions: ObjectCache?

    static let unwatchedOwnerRecheck: Duration = .seconds(15)

    init(client: any ResourceClient, graph: OwnerGraph, definitions: ObjectCache? = nil,
         enqueue: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.graph = graph
        self.definitions = definitions
        self.enqueue = enqueue
        self.kinds = ResourceKindResolver(client: client)
    }

    /// Watches the workload kinds and their pods and revisions into one owner graph.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "garbagecollector", workers: workers) { wiring in
            let graph = OwnerGraph(resources.map { ($0, wiring.cache($0.path)) })
            for resource in resources { wiring.watch(resource.path, graph.handler(for: resource, enqueue: wiring.enqueue)) }
            // A new or changed definition starts a sweep of the custom kinds now; the first
            // sweep runs as the collector starts, then each keeps the next one queued.
            let enqueue = wiring.enqueue
            wiring.watch(CustomObjectKey.definitionsPath, .any { _ in enqueue(CustomObjectKey.sweep) })
            enqueue(CustomObjectKey.sweep)
            return GarbageCollector(client: client, graph: graph, definitions: wiring.cache(CustomObjectKey.definitionsPath),
                                    enqueue: wiring.enqueue)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        if key == CustomObjectKey.sweep { return await sweepCustomResources() }
        if let custom = CustomObjectKey(parsing: key) { return try await reconcileCustom(custom) }
        guard let (resource, cacheKey) = graph.parse(key), let object = graph.cache(resource)?.get(cacheKey) else {
            return .done
        }
        return try await reconcile(object, collection: resource.path, recheckUnwatched: true)
    }

    /// One step for `object`, of the collection `collection` (its path without namespace).
    func reconcile(_ object: JSONValue, collection: ResourcePath, recheckUnwatched: Bool) async throws -> ReconcileResult {
        if ObjectRules.isTerminating(object) {
            let finalizers = object.finalizers
            if finalizers.contains(OwnerGraph.orphanFinalizer) {
                try await orphanDependents(of: object)
                try await removeFinalizer(OwnerGraph.orphanFinalizer, from: object, collection: collection)
                return .done
            }
            if finalizers.contains(OwnerGraph.foregroundFinalizer) {
                return try await deleteDependents(of: object, collection: collection)
            }
            // Already going away, and nobody waits for us to do anything about it.
            return .done
        }
        let unwatchedOwners = try await collect(object, collection: collection)
        return unwatchedOwners && recheckUnwatched ? .requeue(after: Self.unwatchedOwnerRecheck) : .done
    }

    // MARK: - dependents whose owners are gone

    private enum OwnerState { case solid, dangling, waiting }

    /// Deletes `object` when no owner remains, or drops its references to missing owners;
    /// answers whether it is kept for an owner of a kind not watched here.
    private func collect(_ object: JSONValue, collection: ResourcePath) async throws -> Bool {
        let refs = OwnerGraph.ownerReferences(object)
        guard !refs.isEmpty, let uid = object.uid else { return false }
        let unwatched = refs.contains { graph.resource(for: $0) == nil }
        var solid = 0
        var gone: Set<String> = []
        var waiting = false
        for ref in refs {
            switch try await state(of: ref, namespace: object.namespace) {
            case .solid: solid += 1
            case .dangling: gone.insert(ref["uid"]?.stringValue ?? "")
            case .waiting:
                waiting = true
                gone.insert(ref["uid"]?.stringValue ?? "")
            }
        }
        if gone.isEmpty { return unwatched }
        let path = collection.inNamespace(object.namespace).named(object.name ?? "").path
        if solid > 0 {
            // Some owner remains: keep the object, forget the owners that are going.
            let kept = refs.filter { !gone.contains($0["uid"]?.stringValue ?? "") }
            let patch: JSONValue = ["metadata": ["ownerReferences": Self.references(kept),
                                                 "resourceVersion": .string(object.resourceVersion ?? "")]]
            do { _ = try await client.patch(path, patch, type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
            return unwatched
        }
        // An object with dependents of its own, whose owner waits in foreground, goes in
        // foreground too, so that the wait covers the whole tree.
        let policy: String
        if waiting, !graph.dependents(ofUID: uid, namespace: object.namespace).isEmpty {
            policy = "Foreground"
        } else if object.finalizers.contains(OwnerGraph.orphanFinalizer) {
            policy = "Orphan"
        } else if object.finalizers.contains(OwnerGraph.foregroundFinalizer) {
            policy = "Foreground"
        } else {
            policy = "Background"
        }
        try await delete(path, uid: uid, policy: policy)
        return false
    }

    /// What an ownerReference's owner is: present, gone (or replaced by a same-named object
    /// with another uid), or itself waiting for its dependents to be deleted.
    private func state(of ref: JSONValue, namespace: String?) async throws -> OwnerState {
        // Malformed references are left alone.
        guard let name = ref["name"]?.stringValue, let uid = ref["uid"]?.stringValue else { return .solid }
        guard let resource = graph.resource(for: ref) else { return try await unwatchedState(of: ref, name: name, uid: uid, namespace: namespace) }
        var owner = graph.cache(resource)?.get(namespace: namespace, name: name)
        if owner?.uid != uid {
            do {
                owner = try await client.get(resource.path.inNamespace(namespace).named(name).path)
            } catch let e as KubeAPIError where e.isNotFound {
                owner = nil
            }
        }
        guard let owner, owner.uid == uid else { return .dangling }
        return OwnerGraph.isDeletingDependents(owner) ? .waiting : .solid
    }

    /// An owner of a kind outside the graph, read live through discovery. A kind that cannot
    /// be resolved now (discovery failing) counts as present: nothing is deleted on a guess.
    private func unwatchedState(of ref: JSONValue, name: String, uid: String, namespace: String?) async throws -> OwnerState {
        guard let apiVersion = ref["apiVersion"]?.stringValue, let kind = ref["kind"]?.stringValue,
              let resolved = try? await kinds.resolve(apiVersion: apiVersion, kind: kind) else { return .solid }
        let owner: JSONValue?
        do {
            owner = try await client.get(resolved.resource.inNamespace(namespace).named(name).path)
        } catch let e as KubeAPIError where e.isNotFound {
            owner = nil
        }
        guard let owner, owner.uid == uid else { return .dangling }
        return OwnerGraph.isDeletingDependents(owner) ? .waiting : .solid
    }

    // MARK: - foreground

    /// Wakes every dependent (each deletes itself seeing its owner wait); when none blocks the
    /// owner any more, per the caches and then a live list, removes `foregroundDeletion`.
    private func deleteDependents(of owner: JSONValue, collection: ResourcePath) async throws -> ReconcileResult {
        guard let uid = owner.uid else { return .done }
        let dependents = graph.dependents(ofUID: uid, namespace: owner.namespace)
        for (r, d) in dependents {
            if let key = OwnerGraph.key(r, d) { enqueue(key) }
        }
        // Custom dependents send no event we watch: they are woken here, and so is the owner
        // again shortly, until they are gone.
        let custom = await liveCustomObjects(namespace: owner.namespace).filter { Self.refers($0.1, to: uid) }
        for (c, d) in custom {
            if let name = d.name { enqueue(CustomObjectKey(collection: c, namespace: d.namespace, name: name).description) }
        }
        if custom.contains(where: { OwnerGraph.blocks($0.1, ownerUID: uid) }) { return .requeue(after: .seconds(1)) }
        if dependents.contains(where: { OwnerGraph.blocks($0.1, ownerUID: uid) }) { return .done }
        let live = try await liveDependents(ofUID: uid, namespace: owner.namespace)
        if live.contains(where: { OwnerGraph.blocks($0.1, ownerUID: uid) }) {
            // Our caches are behind; their events will wake us, this is only a safety net.
            return .requeue(after: .seconds(1))
        }
        try await removeFinalizer(OwnerGraph.foregroundFinalizer, from: owner, collection: collection)
        return .done
    }

    // MARK: - orphan

    /// Removes the references to `owner` from its dependents, cached and live ones.
    private func orphanDependents(of owner: JSONValue) async throws {
        guard let uid = owner.uid else { return }
        var dependents = graph.dependents(ofUID: uid, namespace: owner.namespace).map { ($0.0.path, $0.1) }
        let seen = Set(dependents.compactMap(\.1.uid))
        dependents += try await liveDependents(ofUID: uid, namespace: owner.namespace).filter { !seen.contains($0.1.uid ?? "") }
        dependents += await liveCustomObjects(namespace: owner.namespace).filter { Self.refers($0.1, to: uid) }
        var firstError: (any Error)?
        for (collection, dependent) in dependents {
            let refs = OwnerGraph.ownerReferences(dependent).filter { $0["uid"]?.stringValue != uid }
            let path = collection.inNamespace(dependent.namespace).named(dependent.name ?? "").path
            let patch: JSONValue = ["metadata": ["ownerReferences": Self.references(refs),
                                                 "resourceVersion": .string(dependent.resourceVersion ?? "")]]
            do { _ = try await client.patch(path, patch, type: .merge) } catch let e as KubeAPIError where e.isNotFound {
            } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    // MARK: - writes

    /// The merge-patch value for a reference list: `null` drops the field when it empties, as
    /// Kubernetes omits an empty `ownerReferences`.
    static func references(_ refs: [JSONValue]) -> JSONValue { refs.isEmpty ? .null : .array(refs) }

    /// Objects of every watched kind in `namespace` referring to `uid`, read from the server:
    /// the last check before a finalizer goes, when cache lag would lose a dependent.
    private func liveDependents(ofUID uid: String, namespace: String?) async throws -> [(ResourcePath, JSONValue)] {
        var found: [(ResourcePath, JSONValue)] = []
        for resource in graph.resources {
            let list = try await client.list(resource.path.inNamespace(namespace).path)
            for item in list["items"]?.arrayValue ?? [] where Self.refers(item, to: uid) {
                found.append((resource.path, item))
            }
        }
        return found
    }

    /// Whether `object` has an ownerReference to `uid`.
    static func refers(_ object: JSONValue, to uid: String) -> Bool {
        OwnerGraph.ownerReferences(object).contains { $0["uid"]?.stringValue == uid }
    }

    /// Drops one finalizer, with the cached resourceVersion as precondition so that finalizers
    /// added meanwhile are not lost (a conflict retries with a fresher copy).
    private func removeFinalizer(_ finalizer: String, from object: JSONValue, collection: ResourcePath) async throws {
        let remaining = object.finalizers.filter { $0 != finalizer }
        let path = collection.inNamespace(object.namespace).named(object.name ?? "").path
        let patch: JSONValue = ["metadata": ["finalizers": .array(remaining.map(JSONValue.string)),
                                             "resourceVersion": .string(object.resourceVersion ?? "")]]
        do { _ = try await client.patch(path, patch, type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
    }

    /// DELETE with a uid precondition, so a same-named successor is never hit.
    private func delete(_ path: String, uid: String, policy: String) async throws {
        let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": .string(policy),
                                  "preconditions": ["uid": .string(uid)]]
        do { try await client.delete(path, options: options) } catch let e as KubeAPIError where e.isNotFound || e.isConflict {}
    }
}
