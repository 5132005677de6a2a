import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The PersistentVolume controller, the local-path provisioner and the scheduler's volume
/// binding against the recording fake client: which volume a claim gets, the exact writes of
/// a binding, reclaim policies, protection finalizers, and where a pod with claims may go.
@Suite struct PersistentVolumeBindingTests {
    let client = RecordingClient()
    let claims = ObjectCache()
    let volumes = ObjectCache()
    let classes = ObjectCache()
    let nodes = ObjectCache()
    let pods = ObjectCache()

    static let claimResource = PersistentVolumeClaimBinder.claims
    static let volumeResource = PersistentVolumeClaimBinder.volumes

    @discardableResult
    func claim(_ name: String, storage: String = "1Gi", modes: [String] = ["ReadWriteOnce"], className: String? = "manual",
               volumeName: String? = nil, annotations: [String: String] = [:], phase: String = "Pending",
               selector: JSONValue? = nil, terminating: Bool = false) -> JSONValue {
        var spec: JSONValue = ["accessModes": .array(modes.map { .string($0) }), "resources": ["requests": ["storage": .string(storage)]],
                               "volumeMode": "Filesystem"]
        if let className { spec["storageClassName"] = .string(className) }
        if let volumeName { spec["volumeName"] = .string(volumeName) }
        if let selector { spec["selector"] = selector }
        var meta: JSONValue = ["name": .string(name), "namespace": "ns", "annotations": .object(annotations.mapValues { .string($0) }),
                               "finalizers": ["kubernetes.io/pvc-protection"]]
        if terminating { meta["deletionTimestamp"] = "2026-01-01T00:00:00Z" }
        return client.seed(["apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec,
                            "status": ["phase": .string(phase)]], as: Self.claimResource, into: claims)
    }

    @discardableResult
    func volume(_ name: String, storage: String = "1Gi", modes: [String] = ["ReadWriteOnce"], className: String = "manual",
                claimRef: JSONValue? = nil, phase: String = "Available", policy: String = "Retain", labels: [String: String] = [:],
                node: String? = nil, annotations: [String: String] = [:]) -> JSONValue {
        var spec: JSONValue = ["capacity": ["storage": .string(storage)], "accessModes": .array(modes.map { .string($0) }),
                               "storageClassName": .string(className), "persistentVolumeReclaimPolicy": .string(policy),
                               "volumeMode": "Filesystem", "hostPath": ["path": .string("/data/\(name)")]]
        if let claimRef { spec["claimRef"] = claimRef }
        if let node {
            spec["nodeAffinity"] = ["required": ["nodeSelectorTerms": [["matchExpressions": [
                ["key": "kubernetes.io/hostname", "operator": "In", "values": [.string(node)]]]]]]]
        }
        return client.seed(["apiVersion": "v1", "kind": "PersistentVolume",
                            "metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) }),
                                         "annotations": .object(annotations.mapValues { .string($0) })],
                            "spec": spec, "status": ["phase": .string(phase)]], as: Self.volumeResource, into: volumes)
    }

    func storageClass(_ name: String, provisioner: String, mode: String) {
        client.seed(["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": ["name": .string(name)],
                     "provisioner": .string(provisioner), "reclaimPolicy": "Delete", "volumeBindingMode": .string(mode)],
                    as: PersistentVolumeClaimBinder.classes, into: classes)
    }

    func node(_ name: String, directory: String? = "/var/lib/caravel/storage") -> JSONValue {
        var meta: JSONValue = ["name": .string(name), "labels": ["kubernetes.io/hostname": .string(name)]]
        if let directory { meta["annotations"] = [LocalPathStorage.nodeDirectoryAnnotation: .string(directory)] }
        return client.seed(["apiVersion": "v1", "kind": "Node", "metadata": meta,
                            "status": ["conditions": [["type": "Ready", "status": "True"]]]], as: .core("nodes"), into: nodes)
    }

    var binder: PersistentVolumeClaimBinder {
        PersistentVolumeClaimBinder(client: client, claimCache: claims, volumeCache: volumes, classCache: classes, nodeCache: nodes,
                                    podCache: pods)
    }
    var reclaimer: PersistentVolumeReclaimer { PersistentVolumeReclaimer(client: client, volumeCache: volumes, claimCache: claims) }
    var provisioner: LocalPathProvisioner {
        LocalPathProvisioner(client: client, claimCache: claims, volumeCache: volumes, classCache: classes, nodeCache: nodes)
    }

    func writes() -> [ClientAction] { client.actions.filter { $0.resource.plural != "events" } }

    // MARK: - matching

    @Test func theSmallestVolumeThatSatisfiesTheClaimWins() {
        let c = claim("data", storage: "2Gi", modes: ["ReadWriteOnce"], selector: ["matchLabels": ["tier": "fast"]])
        volume("too-small", storage: "1Gi", labels: ["tier": "fast"])
        volume("other-class", storage: "2Gi", className: "slow", labels: ["tier": "fast"])
        volume("wrong-mode", storage: "2Gi", modes: ["ReadOnlyMany"], labels: ["tier": "fast"])
        volume("unlabelled", storage: "2Gi")
        volume("large", storage: "10Gi", labels: ["tier": "fast"])
        volume("fits", storage: "3Gi", modes: ["ReadWriteOnce", "ReadWriteMany"], labels: ["tier": "fast"])
        volume("taken", storage: "2Gi", claimRef: ["namespace": "ns", "name": "other", "uid": "u"], labels: ["tier": "fast"])
        volume("released", storage: "2Gi", phase: "Released", labels: ["tier": "fast"])
        #expect(VolumeMatching.bestMatch(for: c, among: volumes.list())?.name == "fits")
    }

    @Test func aVolumePreBoundToTheClaimWinsOverASmallerFreeOne() {
        let c = claim("data")
        volume("free", storage: "1Gi")
        volume("mine", storage: "5Gi", claimRef: ["namespace": "ns", "name": "data"])
        #expect(VolumeMatching.bestMatch(for: c, among: volumes.list())?.name == "mine")
    }

    // MARK: - binding

    @Test func bindingWritesTheVolumeThenTheClaim() async throws {
        let c = claim("data")
        volume("pv1", storage: "5Gi")
        _ = try await binder.reconcile(key: "ns/data")

        let w = writes()
        #expect(w.map { "\($0.verb) \($0.resource.plural)\($0.subresource.map { "/" + $0 } ?? "")" } == [
            "update persistentvolumes", "update persistentvolumes/status",
            "update persistentvolumeclaims", "update persistentvolumeclaims/status",
        ], "\(w)")
        #expect(w[0].object?[path: ["spec", "claimRef", "uid"]] == .string(c.uid ?? ""))
        #expect(w[0].object?[path: ["metadata", "annotations", "pv.kubernetes.io/bound-by-controller"]] == "yes")
        #expect(w[1].object?[path: ["status", "phase"]] == "Bound")
        #expect(w[2].object?[path: ["spec", "volumeName"]] == "pv1")
        #expect(w[2].object?[path: ["metadata", "annotations", "pv.kubernetes.io/bind-completed"]] == "yes")
        #expect(w[3].object?["status"] == ["phase": "Bound", "capacity": ["storage": "5Gi"], "accessModes": ["ReadWriteOnce"]])
    }

    @Test func aWaitForFirstConsumerClaimWaitsForTheSchedulersNode() async throws {
        storageClass("local", provisioner: LocalPathStorage.provisioner, mode: "WaitForFirstConsumer")
        claim("data", className: "local")
        volume("pv1", className: "local", node: "node-a")
        _ = try await binder.reconcile(key: "ns/data")
        #expect(writes().isEmpty, "\(writes())")
        #expect(client.actions.contains { $0.resource.plural == "events" && $0.object?["reason"] == "WaitForFirstConsumer" })
    }

    @Test func aSelectedNodeLimitsTheVolumesToThoseReachableFromIt() async throws {
        storageClass("local", provisioner: LocalPathStorage.provisioner, mode: "WaitForFirstConsumer")
        _ = node("node-a")
        _ = node("node-b")
        claim("data", className: "local", annotations: [LocalPathStorage.selectedNodeAnnotation: "node-b"])
        volume("on-a", className: "local", node: "node-a")
        volume("on-b", storage: "2Gi", className: "local", node: "node-b")
        _ = try await binder.reconcile(key: "ns/data")
        #expect(writes().first?.name == "on-b", "\(writes())")
    }

    @Test func aClaimNoVolumeMatchesIsHandedToItsProvisioner() async throws {
        storageClass("local", provisioner: LocalPathStorage.provisioner, mode: "Immediate")
        claim("data", className: "local")
        _ = try await binder.reconcile(key: "ns/data")
        let w = writes()
        #expect(w.count == 1 && w[0].matches("update", "persistentvolumeclaims"), "\(w)")
        #expect(w[0].object?[path: ["metadata", "annotations", LocalPathStorage.storageProvisionerAnnotation]]
                == .string(LocalPathStorage.provisioner))
    }

    @Test func aBoundClaimWhoseVolumeIsGoneIsLost() async throws {
        claim("data", volumeName: "gone", phase: "Bound")
        _ = try await binder.reconcile(key: "ns/data")
        let w = writes()
        #expect(w.count == 1 && w[0].matches("update", "persistentvolumeclaims", subresource: "status"))
        #expect(w.first?.object?[path: ["status", "phase"]] == "Lost")
    }

    // MARK: - provisioning

    @Test func theProvisionerWritesAHostPathVolumePinnedToTheSelectedNode() async throws {
        storageClass("local-path", provisioner: LocalPathStorage.provisioner, mode: "WaitForFirstConsumer")
        _ = node("node-a", directory: "/srv/storage")
        let c = claim("data", storage: "3Gi", className: "local-path",
                      annotations: [LocalPathStorage.selectedNodeAnnotation: "node-a",
                                    LocalPathStorage.storageProvisionerAnnotation: LocalPathStorage.provisioner])
        _ = try await provisioner.reconcile(key: "ns/data")
        let creates = writes().filter { $0.matches("create", "persistentvolumes") }
        #expect(creates.count == 1, "\(writes())")
        let pv = try #require(creates.first?.object)
        let name = "pvc-" + (c.uid ?? "")
        #expect(pv.name == .some(name))
        #expect(pv[path: ["spec", "hostPath"]] == ["path": .string("/srv/storage/\(name)_ns_data"), "type": "DirectoryOrCreate"])
        #expect(pv[path: ["spec", "capacity"]] == ["storage": "3Gi"])
        #expect(pv[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Delete")
        #expect(pv[path: ["spec", "claimRef", "uid"]] == .string(c.uid ?? ""))
        #expect(pv[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]] == [["matchExpressions": [
            ["key": "kubernetes.io/hostname", "operator": "In", "values": ["node-a"]]]]])
    }

    @Test func anImmediateClaimGetsTheFirstReadyNodeWithADirectory() async throws {
        storageClass("now", provisioner: LocalPathStorage.provisioner, mode: "Immediate")
        client.seed(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-a", "labels": ["kubernetes.io/hostname": "node-a"],
                                                                      "annotations": [LocalPathStorage.nodeDirectoryAnnotation: "/a"]],
                     "status": ["conditions": [["type": "Ready", "status": "False"]]]], as: .core("nodes"), into: nodes)
        _ = node("node-b", directory: nil)
        _ = node("node-c", directory: "/c")
        claim("data", className: "now", annotations: [LocalPathStorage.storageProvisionerAnnotation: LocalPathStorage.provisioner])
        _ = try await provisioner.reconcile(key: "ns/data")
        let pv = try #require(writes().first { $0.matches("create", "persistentvolumes") }?.object)
        #expect(pv[path: ["spec", "nodeAffinity", "required", "nodeSelectorTerms"]]?.arrayValue?.first?[path: ["matchExpressions"]]
                == [["key": "kubernetes.io/hostname", "operator": "In", "values": ["node-c"]]])
        #expect(pv[path: ["spec", "hostPath", "path"]]?.stringValue?.hasPrefix("/c/pvc-") == true)
    }

    @Test func theProvisionerWaitsForTheNodeOfAWaitForFirstConsumerClaim() async throws {
        storageClass("local-path", provisioner: LocalPathStorage.provisioner, mode: "WaitForFirstConsumer")
        _ = node("node-a")
        claim("data", className: "local-path", annotations: [LocalPathStorage.storageProvisionerAnnotation: LocalPathStorage.provisioner])
        _ = try await provisioner.reconcile(key: "ns/data")
        #expect(client.actions.isEmpty, "\(client.actions)")
    }

    // MARK: - reclaiming

    @Test func aVolumeWhoseClaimIsGoneIsReleasedThenKeptWhenRetained() async throws {
        volume("pv1", claimRef: ["namespace": "ns", "name": "data", "uid": "old-uid"], phase: "Bound", policy: "Retain")
        _ = try await reclaimer.reconcile(key: "pv1")
        // The claim is looked up live (the cache may lag) before the volume is released.
        #expect(writes().map(\.verb) == ["get", "update"], "\(writes())")
        #expect(writes().last?.object?["status"] == ["phase": "Released"])

        client.clearActions()
        volume("pv1", claimRef: ["namespace": "ns", "name": "data", "uid": "old-uid"], phase: "Released", policy: "Retain")
        _ = try await reclaimer.reconcile(key: "pv1")
        #expect(writes().filter { $0.verb != "get" }.isEmpty, "\(writes())")
    }

    @Test func aReleasedProvisionedVolumeIsDeletedAndAStaticOneFails() async throws {
        volume("made", claimRef: ["namespace": "ns", "name": "a", "uid": "u1"], phase: "Released", policy: "Delete",
               annotations: [LocalPathStorage.provisionedByAnnotation: LocalPathStorage.provisioner])
        volume("static", claimRef: ["namespace": "ns", "name": "b", "uid": "u2"], phase: "Released", policy: "Delete")
        _ = try await reclaimer.reconcile(key: "made")
        _ = try await reclaimer.reconcile(key: "static")
        let w = writes().filter { $0.verb != "get" }
        #expect(w.count == 2, "\(w)")
        #expect(w[0].matches("delete", "persistentvolumes") && w[0].name == "made")
        #expect(w[1].matches("update", "persistentvolumes", subresource: "status") && w[1].object?[path: ["status", "phase"]] == "Failed")
    }

    @Test func aVolumeStaysBoundWhileItsClaimNamesIt() async throws {
        let c = claim("data", volumeName: "pv1", phase: "Bound")
        volume("pv1", claimRef: ["namespace": "ns", "name": "data", "uid": .string(c.uid ?? "")], phase: "Bound")
        _ = try await reclaimer.reconcile(key: "pv1")
        #expect(writes().isEmpty, "\(writes())")
    }

    // MARK: - protection

    @Test func aDeletedClaimKeepsItsFinalizerWhileAPodUsesIt() async throws {
        claim("data", terminating: true)
        client.seed(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "user", "namespace": "ns"],
                     "spec": ["volumes": [["name": "d", "persistentVolumeClaim": ["claimName": "data"]]]],
                     "status": ["phase": "Running"]], as: .core("pods"), into: pods)
        _ = try await binder.reconcile(key: "ns/data")
        #expect(writes().filter { $0.verb == "update" }.isEmpty, "\(writes())")

        _ = pods.remove("ns/user")
        _ = try? await client.delete(ResourcePath.core("pods", namespace: "ns").named("user").path)
        _ = try await binder.reconcile(key: "ns/data")
        let update = writes().first { $0.matches("update", "persistentvolumeclaims") }
        #expect(update?.object?[path: ["metadata", "finalizers"]] == [], "\(writes())")
    }

    // MARK: - scheduling

    @Test func schedulingRulesForClaims() throws {
        storageClass("local-path", provisioner: LocalPathStorage.provisioner, mode: "WaitForFirstConsumer")
        storageClass("now", provisioner: LocalPathStorage.provisioner, mode: "Immediate")
        let binding = VolumeBinding(claimCache: claims, volumeCache: volumes, classCache: classes)
        func pod(_ claimNames: [String]) -> JSONValue {
            ["metadata": ["name": "p", "namespace": "ns"],
             "spec": ["volumes": .array(claimNames.map { ["name": .string($0), "persistentVolumeClaim": ["claimName": .string($0)]] })]]
        }
        let a = node("node-a")
        let bare = node("node-b", directory: nil)

        guard case .failure(let missing) = binding.plan(for: pod(["nope"])) else { Issue.record("missing claim planned"); return }
        #expect(missing.message == "persistentvolumeclaim \"nope\" not found")

        claim("immediate", className: "now")
        guard case .failure(let unbound) = binding.plan(for: pod(["immediate"])) else { Issue.record("unbound claim planned"); return }
        #expect(unbound.message == "pod has unbound immediate PersistentVolumeClaims")

        let c = claim("bound", volumeName: "pv-a", phase: "Bound")
        volume("pv-a", claimRef: ["namespace": "ns", "name": "bound", "uid": .string(c.uid ?? "")], phase: "Bound", node: "node-a")
        let boundPlan = try binding.plan(for: pod(["bound"])).get()
        #expect(binding.failure(boundPlan, on: a) == nil)
        #expect(binding.failure(boundPlan, on: bare) == "node(s) had volume node affinity conflict")

        claim("later", className: "local-path")
        let waitingPlan = try binding.plan(for: pod(["later"])).get()
        #expect(waitingPlan.waiting.count == 1)
        #expect(binding.failure(waitingPlan, on: a) == nil)
        #expect(binding.failure(waitingPlan, on: bare) == "node(s) didn't find available persistent volumes to bind")

        // A claim whose node was chosen for an earlier pod keeps later pods on that node.
        let b = node("node-c")
        claim("chosen", className: "local-path", annotations: [LocalPathStorage.selectedNodeAnnotation: "node-c"])
        let chosenPlan = try binding.plan(for: pod(["chosen"])).get()
        #expect(binding.failure(chosenPlan, on: b) == nil)
        #expect(binding.failure(chosenPlan, on: a) == "node(s) didn't find available persistent volumes to bind")
    }
}
