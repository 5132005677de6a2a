import Foundation
import KubeClient
import KubeModel

/// The built-in provisioner of the `local-path` class (`caravel.dev/local-path`), after k3s'
/// local-path-provisioner: for each claim of one of its classes it writes a `hostPath`
/// PersistentVolume (type DirectoryOrCreate) pinned by node affinity to one node, pre-bound
/// to the claim; the binder then binds the two.
///
/// The provisioner only writes API objects, so it works the same for the built-in node and
/// for joined ones: the directory is `<node's local-path directory>/<pv>_<namespace>_<claim>`,
/// the node announcing its directory in the `storage.caravel.dev/local-path` annotation; that
/// node's kubelet creates it when a pod first mounts the claim, and removes it once the
/// volume is gone. Deleting a Released volume of reclaim policy Delete is deleting the object.
///
/// Node: a WaitForFirstConsumer claim waits for the scheduler's
/// `volume.kubernetes.io/selected-node`; an Immediate one gets the first Ready node (by name)
/// that announces a directory.
public struct LocalPathProvisioner: Reconciler {
    static let claims = PersistentVolumeClaimBinder.claims
    static let volumes = PersistentVolumeClaimBinder.volumes
    static let component = "caravel.dev/local-path_provisioner"

    let client: any ResourceClient
    let claimCache: ObjectCache
    let volumeCache: ObjectCache
    let classCache: ObjectCache
    let nodeCache: ObjectCache
    let correlator = EventCorrelator()

    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let claim = claimCache.get(key), !ObjectRules.isTerminating(claim),
              (claim[path: ["spec", "volumeName"]]?.stringValue ?? "").isEmpty,
              claim[path: ["status", "phase"]]?.stringValue != "Bound",
              let storageClass = classCache.get(namespace: nil, name: StorageClassName.of(claim)),
              storageClass["provisioner"]?.stringValue == LocalPathStorage.provisioner,
              claim.annotations[LocalPathStorage.storageProvisionerAnnotation] == LocalPathStorage.provisioner,
              let uid = claim.uid else { return .done }
        let volumeName = "pvc-" + uid
        if volumeCache.get(namespace: nil, name: volumeName) != nil { return .done }
        let waits = storageClass["volumeBindingMode"]?.stringValue == "WaitForFirstConsumer"
        let nodeName = waits ? claim.annotations[LocalPathStorage.selectedNodeAnnotation] : Self.immediateNode(nodeCache.list())
        guard let nodeName else {
            if !waits {
                await event(claim, "Warning", "ProvisioningFailed", "no Ready node announces a local-path directory")
                return .requeue(after: .seconds(5))
            }
            return .done
        }
        guard let node = nodeCache.get(namespace: nil, name: nodeName),
              let root = node.annotations[LocalPathStorage.nodeDirectoryAnnotation], root.hasPrefix("/") else {
            await event(claim, "Warning", "ProvisioningFailed",
                        "node \"\(nodeName)\" announces no local-path directory (annotation \(LocalPathStorage.nodeDirectoryAnnotation)); is its kubelet running?")
            return .requeue(after: .seconds(5))
        }
        await event(claim, "Normal", "Provisioning",
                    "External provisioner is provisioning volume for claim \"\(claim.namespace ?? "")/\(claim.name ?? "")\"")
        let volume = Self.volume(named: volumeName, for: claim, storageClass: storageClass, node: node, root: root)
        do {
            _ = try await client.create(Self.volumes.path, volume)
        } catch let e as KubeAPIError where e.isAlreadyExists {
            return .done
        }
        await event(claim, "Normal", "ProvisioningSucceeded", "Successfully provisioned volume \(volumeName)")
        return .done
    }

    /// The volume for a claim on a node: the claim's size and modes, the class's reclaim
    /// policy, a hostPath directory of the node, node affinity to it, pre-bound to the claim.
    static func volume(named name: String, for claim: JSONValue, storageClass: JSONValue, node: JSONValue, root: String) -> JSONValue {
        let ns = claim.namespace ?? ""
        let claimName = claim.name ?? ""
        let hostname = node.labels["kubernetes.io/hostname"] ?? node.name ?? ""
        let directory = LocalPathStorage.directory(in: root, volumeName: name, namespace: ns, claim: claimName)
        return [
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": ["name": .string(name), "annotations": [LocalPathStorage.provisionedByAnnotation: .string(LocalPathStorage.provisioner)]],
            "spec": [
                "capacity": ["storage": claim[path: ["spec", "resources", "requests", "storage"]] ?? "0"],
                "accessModes": claim[path: ["spec", "accessModes"]] ?? ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": .string(storageClass["reclaimPolicy"]?.stringValue ?? "Delete"),
                "storageClassName": .string(storageClass.name ?? ""),
                "volumeMode": "Filesystem",
                "claimRef": VolumeMatching.claimRef(claim),
                "hostPath": ["path": .string(directory), "type": "DirectoryOrCreate"],
                "nodeAffinity": ["required": ["nodeSelectorTerms": [[
                    "matchExpressions": [["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(hostname)]]],
                ]]]],
            ],
        ]
    }

    /// The node of an Immediate claim: the first Ready one, by name, that has a directory.
    static func immediateNode(_ nodes: [JSONValue]) -> String? {
        nodes.filter { node in
            node.annotations[LocalPathStorage.nodeDirectoryAnnotation] != nil
                && ObjectRules.condition(node, "Ready")?["status"]?.stringValue == "True"
        }.compactMap(\.name).sorted().first
    }

    /// Whether this provisioner made the volume.
    static func provisioned(_ volume: JSONValue) -> Bool {
        volume.annotations[LocalPathStorage.provisionedByAnnotation] == LocalPathStorage.provisioner
    }

    /// Deletes a released volume it made; its node's kubelet then removes the directory.
    static func delete(_ volume: JSONValue, client: any ResourceClient) async throws {
        do {
            _ = try await client.delete(volumes.named(volume.name ?? "").path,
                                        options: ["preconditions": ["uid": .string(volume.uid ?? "")]])
        } catch let e as KubeAPIError where e.isNotFound {}
    }

    private func event(_ claim: JSONValue, _ type: String, _ reason: String, _ message: String) async {
        await recorder.record(claim, apiVersion: "v1", kind: "PersistentVolumeClaim", type: type, reason: reason, message: message)
    }

    /// Claims enqueue themselves; one waiting for a node with a directory looks again every 5 s.
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "local-path-provisioner", workers: workers) { wiring in
            let claimCache = wiring.cache(claims)
            wiring.watchOwn(claims)
            return LocalPathProvisioner(client: client, claimCache: claimCache, volumeCache: wiring.cache(volumes),
                                        classCache: wiring.cache(PersistentVolumeClaimBinder.classes),
                                        nodeCache: wiring.cache(.core("nodes")))
        }
    }
}
