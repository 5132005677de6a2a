import Foundation
import KubeClient
import KubeModel

/// The claim half of Kubernetes' PersistentVolume controller: binds each claim to a volume
/// (the one it names in `volumeName`, one pre-bound to it by `claimRef`, or the smallest that
/// matches, see `VolumeMatching`), keeps its phase (Pending, Bound, Lost) and its status
/// capacity and access modes, hands claims no volume matches to their class's provisioner,
/// and releases the `kubernetes.io/pvc-protection` finalizer of a deleted claim once no pod
/// uses it. A WaitForFirstConsumer claim is bound only after the scheduler chose its node
/// (`volume.kubernetes.io/selected-node`), and only to a volume reachable from that node.
public struct PersistentVolumeClaimBinder: Reconciler {
    static let claims = ResourcePath.core("persistentvolumeclaims")
    static let volumes = ResourcePath.core("persistentvolumes")
    static let classes = ResourcePath(group: "storage.k8s.io", version: "v1", plural: "storageclasses")
    static let component = "persistentvolume-controller"
    static let protectionFinalizer = "kubernetes.io/pvc-protection"
    static let noProvisioner = "kubernetes.io/no-provisioner"

    let client: any ResourceClient
    let claimCache: ObjectCache
    let volumeCache: ObjectCache
    let classCache: ObjectCache
    let nodeCache: ObjectCache
    let podCache: ObjectCache
    let correlator = EventCorrelator()

    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let claim = claimCache.get(key), let ns = claim.namespace else { return .done }
        if ObjectRules.isTerminating(claim) {
            try await releaseProtection(claim, namespace: ns)
            return .done
        }
        let volumeName = claim[path: ["spec", "volumeName"]]?.stringValue ?? ""
        if volumeName.isEmpty {
            try await bindUnbound(claim)
        } else {
            try await syncBound(claim, volumeName: volumeName)
        }
        return .done
    }

    // MARK: - unbound claims

    private func bindUnbound(_ claim: JSONValue) async throws {
        let className = StorageClassName.of(claim)
        let storageClass = className.isEmpty ? nil : classCache.get(namespace: nil, name: className)
        let waits = storageClass?["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
        let selectedNode = claim.annotations[LocalPathStorage.selectedNodeAnnotation]
        if waits && selectedNode == nil {
            await event(claim, "Normal", "WaitForFirstConsumer", "waiting for first consumer to be created before binding")
            return
        }
        let node = selectedNode.flatMap { nodeCache.get(namespace: nil, name: $0) }
        let match = VolumeMatching.bestMatch(for: claim, among: volumeCache.list()) { volume in
            node.map { VolumeMatching.admits(volume, node: $0) } ?? true
        }
        if let match {
            try await bind(volume: match, claim: claim)
            return
        }
        guard let storageClass else {
            let message = className.isEmpty ? "no persistent volumes available for this claim and no storage class is set"
                : "storageclass.storage.k8s.io \"\(className)\" not found"
            await event(claim, "Warning", className.isEmpty ? "FailedBinding" : "ProvisioningFailed", message)
            return
        }
        let provisioner = storageClass["provisioner"]?.stringValue ?? ""
        guard provisioner != Self.noProvisioner else {
            await event(claim, "Warning", "FailedBinding", "no persistent volumes available for this claim and no storage class is set")
            return
        }
        if claim.annotations[LocalPathStorage.storageProvisionerAnnotation] != provisioner {
            var updated = claim
            updated[path: ["metadata", "annotations", LocalPathStorage.storageProvisionerAnnotation]] = .string(provisioner)
            updated[path: ["metadata", "annotations", LocalPathStorage.betaStorageProvisionerAnnotation]] = .string(provisioner)
            _ = try await client.update(path(of: claim), updated)
        }
        await event(claim, "Normal", "ExternalProvisioning",
                    "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
    }

    /// Binds in Kubernetes' order: the volume's claimRef, the volume's phase, the claim's
    /// volumeName, the claim's status. A failure midway is finished by the next reconcile.
    private func bind(volume: JSONValue, claim: JSONValue) async throws {
        var boundVolume = volume
        if !VolumeMatching.refers(volume, to: claim) || (volume[path: ["spec", "claimRef", "uid"]]?.stringValue ?? "").isEmpty {
            if VolumeMatching.isUnreserved(volume) {
                boundVolume[path: ["metadata", "annotations", VolumeMatching.boundByControllerAnnotation]] = "yes"
            }
            boundVolume[path: ["spec", "claimRef"]] = VolumeMatching.claimRef(claim)
            boundVolume = try await client.update(Self.volumes.named(volume.name ?? "").path, boundVolume)
        }
        try await setVolumePhase(boundVolume, "Bound")
        var boundClaim = claim
        boundClaim[path: ["spec", "volumeName"]] = .string(volume.name ?? "")
        boundClaim[path: ["metadata", "annotations", VolumeMatching.bindCompletedAnnotation]] = "yes"
        boundClaim[path: ["metadata", "annotations", VolumeMatching.boundByControllerAnnotation]] = "yes"
        boundClaim = try await client.update(path(of: claim), boundClaim)
        try await setClaimStatus(boundClaim, volume: boundVolume)
    }

    // MARK: - claims naming a volume

    private func syncBound(_ claim: JSONValue, volumeName: String) async throws {
        let phase = claim[path: ["status", "phase"]]?.stringValue
        guard let volume = volumeCache.get(namespace: nil, name: volumeName) else {
            if phase == "Bound" {
                try await setClaimLost(claim)
                await event(claim, "Warning", "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            }
            return
        }
        if VolumeMatching.isUnreserved(volume) || VolumeMatching.refers(volume, to: claim) {
            guard VolumeMatching.satisfies(volume, claim) || phase == "Bound" else {
                await event(claim, "Warning", "FailedBinding", "Cannot bind to requested volume \"\(volumeName)\": requested PV is too small")
                return
            }
            try await bind(volume: volume, claim: claim)
        } else if phase == "Bound" {
            try await setClaimLost(claim)
            await event(claim, "Warning", "ClaimMisbound", "Two claims are bound to the same volume, this one is bound incorrectly")
        } else {
            await event(claim, "Warning", "FailedBinding", "volume \"\(volumeName)\" already bound to a different claim.")
        }
    }

    // MARK: - writes

    private func path(of claim: JSONValue) -> String {
        Self.claims.inNamespace(claim.namespace).named(claim.name ?? "").path
    }

    private func setVolumePhase(_ volume: JSONValue, _ phase: String) async throws {
        guard volume[path: ["status", "phase"]]?.stringValue != phase else { return }
        var updated = volume
        updated["status"] = ["phase": .string(phase)]
        var p = Self.volumes.named(volume.name ?? "")
        p.subresource = "status"
        _ = try await client.update(p.path, updated)
    }

    private func setClaimStatus(_ claim: JSONValue, volume: JSONValue) async throws {
        var status = claim["status"] ?? .object([:])
        status["phase"] = "Bound"
        status["capacity"] = volume[path: ["spec", "capacity"]] ?? .object([:])
        status["accessModes"] = volume[path: ["spec", "accessModes"]] ?? .array([])
        guard status != claim["status"] else { return }
        var updated = claim
        updated["status"] = status
        var p = Self.claims.inNamespace(claim.namespace).named(claim.name ?? "")
        p.subresource = "status"
        _ = try await client.update(p.path, updated)
    }

    private func setClaimLost(_ claim: JSONValue) async throws {
        var updated = claim
        updated[path: ["status", "phase"]] = "Lost"
        var p = Self.claims.inNamespace(claim.namespace).named(claim.name ?? "")
        p.subresource = "status"
        _ = try await client.update(p.path, updated)
    }

    // MARK: - protection

    /// Drops `kubernetes.io/pvc-protection` once no unfinished pod of the namespace uses the
    /// claim: the cache says so first, then a live list confirms (a pod just created may not
    /// be in the cache yet).
    private func releaseProtection(_ claim: JSONValue, namespace: String) async throws {
        guard claim.finalizers.contains(Self.protectionFinalizer), let name = claim.name else { return }
        if podCache.list(namespace: namespace).contains(where: { VolumeMatching.podUses($0, claim: name) }) { return }
        let live = try await client.list(ResourcePath.core("pods", namespace: namespace).path)
        if (live["items"]?.arrayValue ?? []).contains(where: { VolumeMatching.podUses($0, claim: name) }) { return }
        try await VolumeMatching.removeFinalizer(Self.protectionFinalizer, from: claim, at: path(of: claim), client: client)
    }

    private func event(_ claim: JSONValue, _ type: String, _ reason: String, _ message: String) async {
        await recorder.record(claim, apiVersion: "v1", kind: "PersistentVolumeClaim", type: type, reason: reason, message: message)
    }

    // MARK: - wiring

    /// Claims enqueue themselves; a volume's change enqueues the claim it names and every
    /// claim still waiting for a volume; a pod's enqueues the claims it uses (protection).
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "persistentvolume-binder", workers: workers) { wiring in
            let claimCache = wiring.cache(claims)
            wiring.watchOwn(claims)
            let enqueue = wiring.enqueue
            wiring.watch(volumes, .any { volume in
                if let ns = volume[path: ["spec", "claimRef", "namespace"]]?.stringValue,
                   let name = volume[path: ["spec", "claimRef", "name"]]?.stringValue {
                    enqueue(ObjectCache.key(namespace: ns, name: name))
                }
                for claim in claimCache.list() where (claim[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty {
                    if let key = ObjectCache.key(of: claim) { enqueue(key) }
                }
            })
            wiring.watch(.core("pods"), .any { pod in
                guard let ns = pod.namespace else { return }
                for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
                    if let name = volume[path: ["persistentVolumeClaim", "claimName"]]?.stringValue {
                        enqueue(ObjectCache.key(namespace: ns, name: name))
                    }
                }
            })
            return PersistentVolumeClaimBinder(client: client, claimCache: claimCache, volumeCache: wiring.cache(volumes),
                                               classCache: wiring.cache(classes), nodeCache: wiring.cache(.core("nodes")),
                                               podCache: wiring.cache(.core("pods")))
        }
    }
}
