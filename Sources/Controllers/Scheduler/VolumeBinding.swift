import Foundation
import KubeClient
import KubeModel

/// Kubernetes' VolumeBinding scheduler plugin for a pod's `persistentVolumeClaim` volumes:
/// - a missing or terminating claim, or an unbound claim of an Immediate class, makes the pod
///   unschedulable on every node (`pod has unbound immediate PersistentVolumeClaims`);
/// - a bound claim admits only the nodes its volume's node affinity selects;
/// - an unbound WaitForFirstConsumer claim admits the nodes where a free matching volume is
///   reachable or its class's provisioner can make one (local-path: nodes announcing a
///   directory); once a node is chosen the claim gets `volume.kubernetes.io/selected-node`
///   and the pod is bound; the PersistentVolume controller and the provisioner do the rest
///   while the kubelet waits for the claim to be bound.
struct VolumeBinding: Sendable {
    static let claims = ResourcePath.core("persistentvolumeclaims")
    static let volumes = ResourcePath.core("persistentvolumes")
    static let classes = ResourcePath(group: "storage.k8s.io", version: "v1", plural: "storageclasses")

    let claimCache: ObjectCache
    let volumeCache: ObjectCache
    let classCache: ObjectCache

    /// What a pod's claims ask of a node.
    struct Plan: Sendable {
        /// Volumes of bound claims.
        var boundVolumes: [JSONValue] = []
        /// Unbound WaitForFirstConsumer claims with their class.
        var waiting: [(claim: JSONValue, storageClass: JSONValue)] = []

        var isEmpty: Bool { boundVolumes.isEmpty && waiting.isEmpty }
    }

    /// The pod's plan, or why no node can take it.
    func plan(for pod: JSONValue) -> Result<Plan, VolumeBindingError> {
        var plan = Plan()
        var hasUnboundImmediate = false
        let ns = pod.namespace ?? ""
        for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let name = volume[path: ["persistentVolumeClaim", "claimName"]]?.stringValue else { continue }
            guard let claim = claimCache.get(namespace: ns, name: name) else {
                return .failure(VolumeBindingError(message: "persistentvolumeclaim \"\(name)\" not found"))
            }
            if ObjectRules.isTerminating(claim) {
                return .failure(VolumeBindingError(message: "persistentvolumeclaim \"\(name)\" is being deleted"))
            }
            let volumeName = claim[path: ["spec", "volumeName"]]?.stringValue ?? ""
            if !volumeName.isEmpty {
                guard let pv = volumeCache.get(namespace: nil, name: volumeName) else {
                    return .failure(VolumeBindingError(message: "persistentvolume \"\(volumeName)\" not found"))
                }
                plan.boundVolumes.append(pv)
                continue
            }
            let className = StorageClassName.of(claim)
            if let storageClass = classCache.get(namespace: nil, name: className),
               storageClass["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer" {
                plan.waiting.append((claim, storageClass))
            } else {
                hasUnboundImmediate = true
            }
        }
        if hasUnboundImmediate { return .failure(VolumeBindingError(message: "pod has unbound immediate PersistentVolumeClaims")) }
        return .success(plan)
    }

    /// Why the node cannot hold the pod's volumes (Kubernetes' wording); nil when it can.
    func failure(_ plan: Plan, on node: JSONValue) -> String? {
        if plan.boundVolumes.contains(where: { !VolumeMatching.admits($0, node: node) }) {
            return "node(s) had volume node affinity conflict"
        }
        let free = volumeCache.list()
        for (claim, storageClass) in plan.waiting {
            // Another pod of the claim was placed already: its node is the claim's.
            if let selected = claim.annotations[LocalPathStorage.selectedNodeAnnotation], selected != node.name {
                return "node(s) didn't find available persistent volumes to bind"
            }
            if VolumeMatching.bestMatch(for: claim, among: free, fitsNode: { VolumeMatching.admits($0, node: node) }) != nil { continue }
            if canProvision(storageClass, on: node) { continue }
            return "node(s) didn't find available persistent volumes to bind"
        }
        return nil
    }

    /// Whether the class's provisioner can make a volume reachable from the node.
    func canProvision(_ storageClass: JSONValue, on node: JSONValue) -> Bool {
        switch storageClass["provisioner"]?.stringValue ?? "" {
        case "", PersistentVolumeClaimBinder.noProvisioner: return false
        case LocalPathStorage.provisioner: return node.annotations[LocalPathStorage.nodeDirectoryAnnotation] != nil
        default: return true
        }
    }

    /// Records the chosen node on each waiting claim (`volume.kubernetes.io/selected-node`).
    func selectNode(_ node: String, for plan: Plan, client: any ResourceClient) async throws {
        for (claim, _) in plan.waiting where claim.annotations[LocalPathStorage.selectedNodeAnnotation] != node {
            let patch: JSONValue = ["metadata": ["annotations": [LocalPathStorage.selectedNodeAnnotation: .string(node)]]]
            _ = try await client.patch(Self.claims.inNamespace(claim.namespace).named(claim.name ?? "").path, patch, type: .merge)
        }
    }

    /// The caches it reads; a claim's change queues the waiting pods of its namespace.
    static func wire(_ wiring: ControllerWiring, pods: ObjectCache) -> VolumeBinding {
        let enqueue = wiring.enqueue
        wiring.watch(claims, .any { claim in
            for pod in pods.list(namespace: claim.namespace ?? "") where Scheduler.needsScheduling(pod) {
                if let key = ObjectCache.key(of: pod) { enqueue(key) }
            }
        })
        return VolumeBinding(claimCache: wiring.cache(claims), volumeCache: wiring.cache(volumes), classCache: wiring.cache(classes))
    }
}

/// Why a pod's claims fit no node.
struct VolumeBindingError: Error, Sendable {
    let message: String
}
