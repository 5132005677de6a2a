import Foundation
import KubeClient
import KubeModel

/// Which PersistentVolume a claim may bind, as Kubernetes' PV controller decides: same class,
/// every requested access mode offered, enough capacity, the claim's selector, a volume mode
/// that agrees, and a volume free or pre-bound to this claim; among those the smallest.
enum VolumeMatching {
    static let boundByControllerAnnotation = "pv.kubernetes.io/bound-by-controller"
    static let bindCompletedAnnotation = "pv.kubernetes.io/bind-completed"

    static func storage(_ list: JSONValue?) -> Quantity? {
        ResourceQuotaUsage.quantity(list?["storage"])
    }

    /// Whether `claimRef` names this claim: namespace and name, and the uid when it has one.
    static func refers(_ volume: JSONValue, to claim: JSONValue) -> Bool {
        guard let ref = volume[path: ["spec", "claimRef"]], !ref.isNull else { return false }
        guard ref["namespace"]?.stringValue == claim.namespace, ref["name"]?.stringValue == claim.name else { return false }
        let uid = ref["uid"]?.stringValue ?? ""
        return uid.isEmpty || uid == claim.uid
    }

    /// Whether the volume is reserved (claimRef) for a claim other than this one.
    static func isTaken(_ volume: JSONValue, by claim: JSONValue) -> Bool {
        guard let ref = volume[path: ["spec", "claimRef"]], !ref.isNull else { return false }
        return !refers(volume, to: claim)
    }

    /// Whether the volume can serve the claim, leaving binding state and node placement aside.
    static func satisfies(_ volume: JSONValue, _ claim: JSONValue) -> Bool {
        guard StorageClassName.of(volume) == StorageClassName.of(claim) else { return false }
        guard VolumeAccessModes.satisfies(offered: volume[path: ["spec", "accessModes"]],
                                          requested: claim[path: ["spec", "accessModes"]]) else { return false }
        let wanted = storage(claim[path: ["spec", "resources", "requests"]]) ?? Quantity(mantissa: 0)
        guard let has = storage(volume[path: ["spec", "capacity"]]), !(has < wanted) else { return false }
        let claimMode = claim[path: ["spec", "volumeMode"]]?.stringValue ?? "Filesystem"
        let volumeMode = volume[path: ["spec", "volumeMode"]]?.stringValue ?? "Filesystem"
        guard claimMode == volumeMode else { return false }
        if let selector = claim[path: ["spec", "selector"]], !selector.isNull {
            guard let parsed = try? LabelSelector.fromJSON(selector), parsed.matches(volume.labels) else { return false }
        }
        return !ObjectRules.isTerminating(volume)
    }

    /// The volume for the claim: one pre-bound to it first (claimRef), else the smallest free
    /// one that satisfies it. `fitsNode` narrows the candidates (a WaitForFirstConsumer claim's
    /// selected node). A claim naming `volumeName` is not matched here.
    static func bestMatch(for claim: JSONValue, among volumes: [JSONValue],
                          fitsNode: (JSONValue) -> Bool = { _ in true }) -> JSONValue? {
        let candidates = volumes.filter { satisfies($0, claim) && fitsNode($0) && isAvailable($0) }
        if let prebound = candidates.first(where: { refers($0, to: claim) }) { return prebound }
        return candidates.filter { !isTaken($0, by: claim) && isUnreserved($0) }.min { a, b in
            let qa = storage(a[path: ["spec", "capacity"]]) ?? Quantity(mantissa: 0)
            let qb = storage(b[path: ["spec", "capacity"]]) ?? Quantity(mantissa: 0)
            return qa != qb ? qa < qb : (a.name ?? "") < (b.name ?? "")
        }
    }

    /// Released and Failed volumes are not bound again.
    static func isAvailable(_ volume: JSONValue) -> Bool {
        let phase = volume[path: ["status", "phase"]]?.stringValue ?? ""
        return phase != "Released" && phase != "Failed"
    }

    static func isUnreserved(_ volume: JSONValue) -> Bool {
        volume[path: ["spec", "claimRef"]].map(\.isNull) ?? true
    }

    /// Whether a volume's node affinity admits the node (no affinity admits every node).
    static func admits(_ volume: JSONValue, node: JSONValue) -> Bool {
        guard let terms = volume[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue else { return true }
        return terms.contains { SchedulingFilters.matches(term: $0, node: node) }
    }

    /// The claimRef a volume gets when bound to `claim`.
    static func claimRef(_ claim: JSONValue) -> JSONValue {
        [
            "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace ?? ""), "name": .string(claim.name ?? ""),
            "uid": .string(claim.uid ?? ""), "apiVersion": "v1", "resourceVersion": .string(claim.resourceVersion ?? ""),
        ]
    }

    /// Writes `object` back without `finalizer` (a no-op when it has none or is gone).
    static func removeFinalizer(_ finalizer: String, from object: JSONValue, at path: String, client: any ResourceClient) async throws {
        guard object.finalizers.contains(finalizer) else { return }
        var updated = object
        updated[path: ["metadata", "finalizers"]] = .array(object.finalizers.filter { $0 != finalizer }.map { .string($0) })
        do {
            _ = try await client.update(path, updated)
        } catch let e as KubeAPIError where e.isNotFound {}
    }

    /// Whether a pod (not finished) names the claim among its volumes.
    static func podUses(_ pod: JSONValue, claim: String) -> Bool {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        guard phase != "Succeeded", phase != "Failed" else { return false }
        return (pod[path: ["spec", "volumes"]]?.arrayValue ?? []).contains {
            $0[path: ["persistentVolumeClaim", "claimName"]]?.stringValue == claim
        }
    }
}
