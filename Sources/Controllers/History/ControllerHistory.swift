import KubeClient
import KubeModel

/// The ControllerRevisions of one DaemonSet or StatefulSet (Kubernetes' controller history):
/// each distinct pod template is snapshotted once as `data` (`{"spec":{"template":{…,
/// "$patch":"replace"}}}`, the patch `kubectl rollout undo` applies), named `<owner>-<hash>`,
/// labelled with the template's labels and the hash, and numbered; going back to an older
/// template renumbers its snapshot rather than adding one. Old snapshots no pod uses are
/// pruned down to `revisionHistoryLimit`.
struct ControllerHistory: Sendable {
    static let resource = ResourcePath(group: "apps", version: "v1", plural: "controllerrevisions")
    /// The label on pods (and DaemonSet revisions) naming the revision they were made from.
    static let podHashLabel = "controller-revision-hash"
    /// The label StatefulSet revisions carry their hash in (`history.ControllerRevisionHashLabel`).
    static let revisionHashLabel = "controller.kubernetes.io/hash"

    let client: any ResourceClient
    /// The DaemonSet or StatefulSet.
    let owner: JSONValue
    let ownerKind: String
    /// The label key the hash is written under on the revisions.
    let hashLabel: String

    /// The revisions in `cache` controlled by `owner`, oldest revision first.
    static func revisions(of owner: JSONValue, in cache: ObjectCache) -> [JSONValue] {
        guard let uid = owner.uid, let ns = owner.namespace else { return [] }
        return cache.list(namespace: ns)
            .filter { ObjectRules.controllerRef(of: $0)?["uid"]?.stringValue == uid }
            .sorted { number($0) < number($1) }
    }

    static func number(_ revision: JSONValue) -> Int64 { revision["revision"]?.intValue ?? 0 }

    /// The snapshot of `owner`'s current template.
    static func data(of owner: JSONValue) -> JSONValue {
        var template = owner[path: ["spec", "template"]] ?? .object([:])
        template["$patch"] = "replace"
        return ["spec": ["template": template]]
    }

    /// The hash naming the snapshot `data` (with the owner's collision count mixed in).
    static func hash(of data: JSONValue, collisionCount: Int) -> String {
        PodTemplateHash.of(data, collisionCount: collisionCount)
    }

    /// `<owner>-<hash>`, the prefix cut so the name stays a valid object name.
    static func name(owner: String, hash: String) -> String {
        String(owner.prefix(223)) + "-" + hash
    }

    /// Makes sure the current template has a revision numbered above every other one; returns
    /// it and the collision count to record in the owner's status.
    func snapshot(existing: [JSONValue], collisionCount start: Int) async throws -> (revision: JSONValue, collisionCount: Int) {
        let data = Self.data(of: owner)
        // Saturating: a revision number is the user's to write too, up to Int64.max.
        let highest = min(existing.map(Self.number).max() ?? 0, Int64.max - 1)
        if let same = existing.last(where: { $0["data"] == data }) {
            if Self.number(same) >= highest { return (same, start) }
            let path = Self.resource.inNamespace(same.namespace).named(same.name ?? "").path
            let renumbered = try await client.patch(path, ["revision": .int(highest + 1)], type: .merge)
            return (renumbered, start)
        }
        var collisionCount = start
        let path = Self.resource.inNamespace(owner.namespace).path
        // Each name taken by other data moves the hash on; a bounded number of tries per
        // reconcile keeps a pathological history from holding a worker.
        for _ in 0..<16 {
            let hash = Self.hash(of: data, collisionCount: collisionCount)
            let revision = newRevision(data: data, hash: hash, number: highest + 1)
            do {
                return (try await client.create(path, revision), collisionCount)
            } catch let e as KubeAPIError where e.isAlreadyExists {
                let name = revision.name ?? ""
                let found = try await client.get(Self.resource.inNamespace(owner.namespace).named(name).path)
                if found["data"] == data, ObjectRules.controllerRef(of: found)?["uid"]?.stringValue == owner.uid {
                    return (found, collisionCount)
                }
                // Another template (or owner) has this name: hash again with a new count.
                collisionCount += 1
            }
        }
        throw KubeAPIError(code: 409, reason: "AlreadyExists",
                           message: "no free revision name for \(ownerKind) \(owner.name ?? "") after 16 hash collisions")
    }

    /// Deletes the oldest revisions beyond `limit`, never one in `live` (by hash label or name).
    func truncate(_ revisions: [JSONValue], live: Set<String>, limit: Int) async throws {
        let prunable = revisions.filter { r in
            !live.contains(r.name ?? "") && !live.contains(r.labels[hashLabel] ?? "")
        }
        guard prunable.count > limit else { return }
        for revision in prunable.prefix(prunable.count - limit) {
            let path = Self.resource.inNamespace(revision.namespace).named(revision.name ?? "").path
            do { _ = try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound {}
        }
    }

    private func newRevision(data: JSONValue, hash: String, number: Int64) -> JSONValue {
        var labels = owner.stringMap(at: ["spec", "template", "metadata", "labels"])
        labels[hashLabel] = hash
        var meta: JSONValue = [
            "name": .string(Self.name(owner: owner.name ?? "", hash: hash)),
            "labels": .object(labels.mapValues { .string($0) }),
            "ownerReferences": [ObjectRules.ownerReference(to: owner, apiVersion: "apps/v1", kind: ownerKind)],
        ]
        if let ns = owner.namespace { meta["namespace"] = .string(ns) }
        if let annotations = owner[path: ["metadata", "annotations"]], !(annotations.objectValue?.isEmpty ?? true) {
            meta["annotations"] = annotations
        }
        return ["apiVersion": "apps/v1", "kind": "ControllerRevision", "metadata": meta, "data": data, "revision": .int(number)]
    }
}
