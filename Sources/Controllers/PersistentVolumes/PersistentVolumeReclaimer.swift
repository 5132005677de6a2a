import Foundation
import KubeClient
import KubeModel

/// The volume half of Kubernetes' PersistentVolume controller: keeps each volume's phase
/// (Available, Bound, Released, Failed), applies the reclaim policy once its claim is gone
/// (Retain keeps it Released; Delete has the provisioner that made it delete it, and fails a
/// volume nobody can delete; Recycle is not supported and fails), and releases the
/// `kubernetes.io/pv-protection` finalizer of a deleted volume once it is bound to no claim.
public struct PersistentVolumeReclaimer: Reconciler {
    static let volumes = PersistentVolumeClaimBinder.volumes
    static let claims = PersistentVolumeClaimBinder.claims
    static let protectionFinalizer = "kubernetes.io/pv-protection"

    let client: any ResourceClient
    let volumeCache: ObjectCache
    let claimCache: ObjectCache
    let correlator = EventCorrelator()

    var recorder: EventRecorder {
        EventRecorder(client: client, component: PersistentVolumeClaimBinder.component, correlator: correlator)
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let volume = volumeCache.get(key), let name = volume.name else { return .done }
        let phase = volume[path: ["status", "phase"]]?.stringValue ?? ""
        if ObjectRules.isTerminating(volume) {
            if phase != "Bound" { try await dropProtection(volume) }
            return .done
        }
        guard let ref = volume[path: ["spec", "claimRef"]], !ref.isNull else {
            try await setPhase(volume, "Available")
            return .done
        }
        let refUID = ref["uid"]?.stringValue ?? ""
        // Pre-bound by an administrator to a claim that may not exist yet.
        if refUID.isEmpty {
            try await setPhase(volume, "Available")
            return .done
        }
        let claim = try await currentClaim(namespace: ref["namespace"]?.stringValue ?? "", name: ref["name"]?.stringValue ?? "")
        if let claim, claim.uid == refUID {
            // Bound once the claim names the volume; until then the binder finishes the job.
            if claim[path: ["spec", "volumeName"]]?.stringValue == name { try await setPhase(volume, "Bound") }
            return .done
        }
        // The claim is gone (or replaced by another of the same name): the volume is released.
        if phase != "Released" && phase != "Failed" {
            try await setPhase(volume, "Released")
            return .done
        }
        guard phase == "Released" else { return .done }
        switch volume[path: ["spec", "persistentVolumeReclaimPolicy"]]?.stringValue ?? "Retain" {
        case "Delete":
            if LocalPathProvisioner.provisioned(volume) {
                try await LocalPathProvisioner.delete(volume, client: client)
            } else {
                let message = "error getting deleter volume plugin for volume \"\(name)\": no deletable volume plugin matched"
                try await setPhase(volume, "Failed", message: message)
                await recorder.record(volume, apiVersion: "v1", kind: "PersistentVolume", type: "Warning", reason: "VolumeFailedDelete",
                                      message: message)
            }
        case "Recycle":
            let message = "no volume plugin matched name: recycling is not supported"
            try await setPhase(volume, "Failed", message: message)
            await recorder.record(volume, apiVersion: "v1", kind: "PersistentVolume", type: "Warning", reason: "VolumeFailedRecycle",
                                  message: message)
        default:
            break
        }
        return .done
    }

    /// The claim from the cache, or from the API server when the cache has none: a claim just
    /// created may not have reached the cache, and releasing its volume would be wrong.
    private func currentClaim(namespace: String, name: String) async throws -> JSONValue? {
        if let cached = claimCache.get(namespace: namespace, name: name) { return cached }
        do {
            return try await client.get(Self.claims.inNamespace(namespace).named(name).path)
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    private func setPhase(_ volume: JSONValue, _ phase: String, message: String? = nil) async throws {
        guard volume[path: ["status", "phase"]]?.stringValue != phase else { return }
        var updated = volume
        var status: JSONValue = ["phase": .string(phase)]
        if let message { status["message"] = .string(message) }
        updated["status"] = status
        var p = Self.volumes.named(volume.name ?? "")
        p.subresource = "status"
        do {
            _ = try await client.update(p.path, updated)
        } catch let e as KubeAPIError where e.isNotFound {}
    }

    private func dropProtection(_ volume: JSONValue) async throws {
        try await VolumeMatching.removeFinalizer(Self.protectionFinalizer, from: volume, at: Self.volumes.named(volume.name ?? "").path,
                                                 client: client)
    }

    /// Volumes enqueue themselves; a claim's change enqueues the volume it names and the
    /// volumes whose claimRef names it (a deleted claim releases them).
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "persistentvolume-reclaimer", workers: workers) { wiring in
            let volumeCache = wiring.cache(volumes)
            wiring.watchOwn(volumes)
            let enqueue = wiring.enqueue
            wiring.watch(claims, .any { claim in
                if let name = claim[path: ["spec", "volumeName"]]?.stringValue, !name.isEmpty { enqueue(name) }
                for volume in volumeCache.list()
                where volume[path: ["spec", "claimRef", "namespace"]]?.stringValue == claim.namespace
                    && volume[path: ["spec", "claimRef", "name"]]?.stringValue == claim.name {
                    if let name = volume.name { enqueue(name) }
                }
            })
            return PersistentVolumeReclaimer(client: client, volumeCache: volumeCache, claimCache: wiring.cache(claims))
        }
    }
}
