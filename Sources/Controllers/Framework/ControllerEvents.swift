import KubeClient
import KubeModel

/// Turns informer events into queue keys: an object's changes wake the controller that owns
/// it (its controller ownerReference), orphans wake every controller whose selector matches
/// them, so that it can adopt them.
enum ControllerEvents {
    typealias Enqueue = @Sendable (String) -> Void

    /// `namespace/name` of the object's controller when it is a `kind`.
    static func ownerKey(_ object: JSONValue, kind: String) -> String? {
        guard let ref = ObjectRules.controllerRef(of: object), ref["kind"]?.stringValue == kind,
              let name = ref["name"]?.stringValue else { return nil }
        return ObjectCache.key(namespace: object.namespace, name: name)
    }

    /// Keys of the owners in `owners` whose selector matches the orphan `object`.
    static func matchingOwners(_ object: JSONValue, in owners: ObjectCache) -> [String] {
        guard let ns = object.namespace else { return [] }
        let labels = object.labels
        return owners.list(namespace: ns).compactMap { owner in
            guard let s = ObjectRules.selector(of: owner), !s.isEverything, s.matches(labels) else { return nil }
            return ObjectCache.key(of: owner)
        }
    }

    /// Every event of the owning resource itself enqueues its key.
    static func ownHandler(_ enqueue: @escaping Enqueue) -> InformerHandler {
        .any { object in if let key = ObjectCache.key(of: object) { enqueue(key) } }
    }

    /// Handler for dependents (pods of ReplicaSets, ReplicaSets of Deployments). With
    /// expectations, creations and deletions seen here let the owner act again.
    static func dependentHandler(ownerKind: String, owners: ObjectCache, expectations: Expectations?,
                                 enqueue: @escaping Enqueue) -> InformerHandler {
        InformerHandler(
            onAdd: { object in
                if let key = ownerKey(object, kind: ownerKind) {
                    await expectations?.creationObserved(key)
                    enqueue(key)
                } else if ObjectRules.controllerRef(of: object) == nil {
                    for key in matchingOwners(object, in: owners) { enqueue(key) }
                }
            },
            onUpdate: { old, new in
                let oldKey = ownerKey(old, kind: ownerKind)
                let newKey = ownerKey(new, kind: ownerKind)
                if let newKey, !ObjectRules.isTerminating(old), ObjectRules.isTerminating(new) {
                    // A graceful delete started: for counting, the pod is already gone.
                    await expectations?.deletionObserved(newKey)
                }
                if let oldKey, oldKey != newKey { enqueue(oldKey) }
                if let newKey {
                    enqueue(newKey)
                } else if ObjectRules.controllerRef(of: new) == nil {
                    for key in matchingOwners(new, in: owners) { enqueue(key) }
                }
            },
            onDelete: { object in
                guard let key = ownerKey(object, kind: ownerKind) else { return }
                if !ObjectRules.isTerminating(object) { await expectations?.deletionObserved(key) }
                enqueue(key)
            })
    }
}
