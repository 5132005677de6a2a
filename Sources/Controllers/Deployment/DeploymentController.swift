import Foundation
import KubeClient
import KubeModel

/// Rolls Deployments out through ReplicaSets (Kubernetes' deployment controller): one
/// ReplicaSet per pod template, named `<deployment>-<pod-template-hash>`; RollingUpdate within
/// maxSurge/maxUnavailable or Recreate; revision annotations; old ReplicaSets beyond
/// `revisionHistoryLimit` removed once the rollout completes; status that `kubectl rollout
/// status` reads. Each reconcile takes one step (create, scale one side, or clean up) from the
/// caches; the ReplicaSet events it causes bring the next step.
public struct DeploymentController: Reconciler {
    static let resource = ResourcePath(group: "apps", version: "v1", plural: "deployments")
    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let desiredAnnotation = "deployment.kubernetes.io/desired-replicas"
    static let maxAnnotation = "deployment.kubernetes.io/max-replicas"

    let client: any ResourceClient
    let deployments: ObjectCache
    let replicaSets: ObjectCache
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "deployment-controller", correlator: correlator) }

    init(client: any ResourceClient, deployments: ObjectCache, replicaSets: ObjectCache, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.deployments = deployments
        self.replicaSets = replicaSets
        self.now = now
    }

    /// Watches Deployments and ReplicaSets: a ReplicaSet wakes its controlling Deployment (an
    /// orphan, every Deployment selecting it).
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "deployment", workers: workers) { wiring in
            let deployments = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watch(ReplicaSetController.resource, ControllerEvents.dependentHandler(
                ownerKind: "Deployment", owners: deployments, expectations: nil, enqueue: wiring.enqueue))
            return DeploymentController(client: client, deployments: deployments, replicaSets: wiring.cache(ReplicaSetController.resource))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let d = deployments.get(key), let uid = d.uid else { return .done }
        guard let selector = ObjectRules.selector(of: d), !selector.isEverything else { return .done }
        let namespace = ObjectCache.split(key).namespace ?? ""
        let deleting = ObjectRules.isTerminating(d)

        var owned: [JSONValue] = []
        for rs in replicaSets.list(namespace: namespace) {
            if let ref = ObjectRules.controllerRef(of: rs) {
                if ref["uid"]?.stringValue == uid { owned.append(rs) }
            } else if !deleting, !ObjectRules.isTerminating(rs), selector.matches(rs.labels) {
                owned.append(try await adopt(rs, deployment: d))
            }
        }

        let template = d[path: ["spec", "template"]] ?? .object([:])
        let hash = PodTemplateHash.of(template, collisionCount: ObjectRules.int(d[path: ["status", "collisionCount"]]))
        let bare = PodTemplateHash.withoutHash(template)
        let newRS = owned.first { $0.labels[PodTemplateHash.label] == hash }
            ?? owned.first { PodTemplateHash.withoutHash($0[path: ["spec", "template"]] ?? .null) == bare }
        let olds = owned.filter { $0.uid != newRS?.uid }.sorted(by: Self.olderFirst)
        let paused = d[path: ["spec", "paused"]]?.boolValue ?? false

        // A changed `spec.replicas` resizes the ReplicaSets first, paused or not, in proportion
        // during a rollout; the rollout itself resumes on the events this causes.
        if !deleting, Self.isScalingEvent(d, owned), try await scaleProportionally(d, newRS: newRS, olds: olds) {
            return .done
        }

        // A paused or deleted Deployment is not rolled; its status still tracks its pods.
        if paused || deleting {
            try await writeStatus(d, newRS: newRS, olds: olds)
            return .done
        }
        guard let newRS else {
            try await createReplicaSet(for: d, hash: hash, olds: olds)
            return .done
        }
        let maxOld = olds.map(Self.revision).max() ?? 0
        if Self.revision(newRS) <= maxOld {
            // A template we had before (rollback): its ReplicaSet becomes the newest revision.
            try await patchReplicaSet(newRS, ["metadata": ["annotations": [Self.revisionAnnotation: .string(String(maxOld + 1))]]])
            return .done
        }
        try await syncRevision(d, newRS)

        if try await rolloutStep(d, newRS: newRS, olds: olds) {
            let status = try await writeStatus(d, newRS: newRS, olds: olds, progressed: true)
            return Self.progressRecheck(d, status: status, now: now())
        }
        let status = try await writeStatus(d, newRS: newRS, olds: olds)
        if Self.isComplete(d, status: status) { try await cleanupHistory(d, olds: olds) }
        return Self.progressRecheck(d, status: status, now: now())
    }

    // MARK: - rollout

    /// Scales one side of the rollout if it needs it; answers whether it did.
    private func rolloutStep(_ d: JSONValue, newRS: JSONValue, olds: [JSONValue]) async throws -> Bool {
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        let (surge, unavailable) = Self.fenceposts(d)
        let newCounts = Self.counts(newRS)

        if d[path: ["spec", "strategy", "type"]]?.stringValue == "Recreate" {
            let scaling = olds.filter { ObjectRules.int($0[path: ["spec", "replicas"]]) > 0 }
            for rs in scaling { try await scale(rs, to: 0, desired: desired, surge: 0) }
            if !scaling.isEmpty { return true }
            // Old pods must be gone before new ones start.
            if olds.contains(where: { ObjectRules.int($0[path: ["status", "replicas"]]) > 0 }) { return true }
            guard newCounts.replicas != desired else { return false }
            try await scale(newRS, to: desired, desired: desired, surge: 0)
            return true
        }

        let all = olds.map(Self.counts) + [newCounts]
        let target = RollingUpdateMath.newReplicaSetReplicas(desired: desired, surge: surge, new: newCounts, all: all)
        if target != newCounts.replicas {
            try await scale(newRS, to: target, desired: desired, surge: surge)
            return true
        }
        let downs = RollingUpdateMath.oldReplicaSetScaleDowns(desired: desired, unavailable: unavailable,
                                                               new: newCounts, old: olds.map(Self.counts))
        for rs in olds {
            guard let n = downs[rs.name ?? ""] else { continue }
            try await scale(rs, to: n, desired: desired, surge: surge)
        }
        return !downs.isEmpty
    }

    func scale(_ rs: JSONValue, to replicas: Int, desired: Int, surge: Int) async throws {
        let from = ObjectRules.int(rs[path: ["spec", "replicas"]])
        try await patchReplicaSet(rs, [
            "metadata": ["annotations": [Self.desiredAnnotation: .string(String(desired)),
                                         Self.maxAnnotation: .string(String(desired + surge))]],
            "spec": ["replicas": .int(Int64(replicas))],
        ])
        if from != replicas, let owner = deployment(owning: rs) {
            await recorder.record(owner, apiVersion: "apps/v1", kind: "Deployment", reason: "ScalingReplicaSet",
                                  message: "Scaled \(replicas > from ? "up" : "down") replica set \(rs.name ?? "") from \(from) to \(replicas)")
        }
    }

    /// The cached Deployment that controls a ReplicaSet, for events about it.
    private func deployment(owning rs: JSONValue) -> JSONValue? {
        guard let ref = ObjectRules.controllerRef(of: rs), let name = ref["name"]?.stringValue else { return nil }
        return deployments.get(ObjectCache.key(namespace: rs.namespace, name: name))
    }

    /// Merge-patches a ReplicaSet with the cached resourceVersion as precondition: if our
    /// cache is behind, the server answers 409 and the key is retried on fresher data.
    private func patchReplicaSet(_ rs: JSONValue, _ patch: JSONValue) async throws {
        var p = patch
        p[path: ["metadata", "resourceVersion"]] = .string(rs.resourceVersion ?? "")
        let path = ReplicaSetController.resource.inNamespace(rs.namespace).named(rs.name ?? "").path
        _ = try await client.patch(path, p, type: .merge)
    }

    private func adopt(_ rs: JSONValue, deployment d: JSONValue) async throws -> JSONValue {
        var refs = rs[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
        refs.append(ObjectRules.ownerReference(to: d, apiVersion: "apps/v1", kind: "Deployment"))
        let path = ReplicaSetController.resource.inNamespace(rs.namespace).named(rs.name ?? "").path
        let patch: JSONValue = ["metadata": ["ownerReferences": .array(refs), "resourceVersion": .string(rs.resourceVersion ?? "")]]
        return try await client.patch(path, patch, type: .merge)
    }

    // MARK: - new ReplicaSet

    private func createReplicaSet(for d: JSONValue, hash: String, olds: [JSONValue]) async throws {
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        let (surge, _) = Self.fenceposts(d)
        let recreate = d[path: ["spec", "strategy", "type"]]?.stringValue == "Recreate"
        let initial = recreate
            ? (olds.contains { ObjectRules.int($0[path: ["spec", "replicas"]]) > 0 || ObjectRules.int($0[path: ["status", "replicas"]]) > 0 } ? 0 : desired)
            : RollingUpdateMath.newReplicaSetReplicas(desired: desired, surge: surge, new: ReplicaSetCounts(name: "", replicas: 0),
                                                      all: olds.map(Self.counts))
        let revision = (olds.map(Self.revision).max() ?? 0) + 1
        let rs = Self.replicaSet(for: d, hash: hash, replicas: initial, revision: revision, maxReplicas: desired + (recreate ? 0 : surge))
        let path = ReplicaSetController.resource.inNamespace(d.namespace).path
        do {
            _ = try await client.create(path, rs)
            if initial > 0 {
                await recorder.record(d, apiVersion: "apps/v1", kind: "Deployment", reason: "ScalingReplicaSet",
                                      message: "Scaled up replica set \(rs.name ?? "") from 0 to \(initial)")
            }
        } catch let error as KubeAPIError where error.isAlreadyExists {
            let existing = try await client.get(path + "/" + (rs.name ?? ""))
            // Ours, and the cache has not seen it yet: the RS event brings us back.
            if ObjectRules.controllerRef(of: existing)?["uid"]?.stringValue == d.uid { return }
            // Someone else's object has our name: a different hash next time.
            var status = d["status"] ?? .object([:])
            status["collisionCount"] = .int(Int64(ObjectRules.int(status["collisionCount"]) + 1))
            try await patchDeploymentStatus(d, status)
        }
    }

    /// The ReplicaSet for the Deployment's current template.
    static func replicaSet(for d: JSONValue, hash: String, replicas: Int, revision: Int, maxReplicas: Int) -> JSONValue {
        var template = d[path: ["spec", "template"]] ?? .object([:])
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? [:]
        labels[PodTemplateHash.label] = .string(hash)
        template[path: ["metadata", "labels"]] = .object(labels)
        var selector = d[path: ["spec", "selector"]] ?? .object([:])
        var matchLabels = selector["matchLabels"]?.objectValue ?? [:]
        matchLabels[PodTemplateHash.label] = .string(hash)
        selector["matchLabels"] = .object(matchLabels)

        // Like Kubernetes, carry the Deployment's own annotations (change-cause for
        // `kubectl rollout history`), but not its bookkeeping ones.
        var annotations: [String: JSONValue] = [:]
        for (k, v) in d.annotations where !k.hasPrefix("deployment.kubernetes.io/") && k != "kubectl.kubernetes.io/last-applied-configuration" {
            annotations[k] = .string(v)
        }
        annotations[revisionAnnotation] = .string(String(revision))
        annotations[desiredAnnotation] = .string(String(ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)))
        annotations[maxAnnotation] = .string(String(maxReplicas))

        var meta: JSONValue = [
            "name": .string("\(d.name ?? "")-\(hash)"), "labels": .object(labels), "annotations": .object(annotations),
            "ownerReferences": [ObjectRules.ownerReference(to: d, apiVersion: "apps/v1", kind: "Deployment")],
        ]
        if let ns = d.namespace { meta["namespace"] = .string(ns) }
        var spec: JSONValue = ["replicas": .int(Int64(replicas)), "selector": selector, "template": template]
        if let m = d[path: ["spec", "minReadySeconds"]] { spec["minReadySeconds"] = m }
        return ["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta, "spec": spec]
    }

    /// Mirrors the new ReplicaSet's revision on the Deployment, where `kubectl describe` shows it.
    private func syncRevision(_ d: JSONValue, _ newRS: JSONValue) async throws {
        let revision = String(Self.revision(newRS))
        guard d.annotations[Self.revisionAnnotation] != revision else { return }
        let path = Self.resource.inNamespace(d.namespace).named(d.name ?? "").path
        let patch: JSONValue = ["metadata": ["annotations": [Self.revisionAnnotation: .string(revision)],
                                             "resourceVersion": .string(d.resourceVersion ?? "")]]
        _ = try await client.patch(path, patch, type: .merge)
    }

    // MARK: - history

    /// Deletes the oldest scaled-down ReplicaSets beyond `revisionHistoryLimit`.
    private func cleanupHistory(_ d: JSONValue, olds: [JSONValue]) async throws {
        let limit = ObjectRules.int(d[path: ["spec", "revisionHistoryLimit"]], default: 10)
        let idle = olds.filter {
            ObjectRules.int($0[path: ["spec", "replicas"]]) == 0 && ObjectRules.int($0[path: ["status", "replicas"]]) == 0
                && !ObjectRules.isTerminating($0)
        }.sorted { Self.revision($0) < Self.revision($1) }
        guard idle.count > limit else { return }
        for rs in idle.prefix(idle.count - limit) {
            let path = ReplicaSetController.resource.inNamespace(rs.namespace).named(rs.name ?? "").path
            let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "preconditions": ["uid": .string(rs.uid ?? "")]]
            do { try await client.delete(path, options: options) } catch let e as KubeAPIError where e.isNotFound {}
        }
    }

    // MARK: - helpers

    static func revision(_ rs: JSONValue) -> Int { Int(rs.annotations[revisionAnnotation] ?? "") ?? 0 }

    static func counts(_ rs: JSONValue) -> ReplicaSetCounts {
        ReplicaSetCounts(name: rs.name ?? "", replicas: ObjectRules.int(rs[path: ["spec", "replicas"]]),
                         current: ObjectRules.int(rs[path: ["status", "replicas"]]),
                         available: ObjectRules.int(rs[path: ["status", "availableReplicas"]]))
    }

    /// maxSurge and maxUnavailable of a RollingUpdate Deployment; (0, 0) for Recreate.
    static func fenceposts(_ d: JSONValue) -> (surge: Int, unavailable: Int) {
        guard d[path: ["spec", "strategy", "type"]]?.stringValue != "Recreate" else { return (0, 0) }
        let desired = ObjectRules.int(d[path: ["spec", "replicas"]], default: 1)
        let r = d[path: ["spec", "strategy", "rollingUpdate"]]
        return RollingUpdateMath.fenceposts(maxSurge: r?["maxSurge"] ?? "25%", maxUnavailable: r?["maxUnavailable"] ?? "25%", desired: desired)
    }

    static func olderFirst(_ a: JSONValue, _ b: JSONValue) -> Bool {
        let ta = ObjectRules.creationTime(a) ?? .distantPast, tb = ObjectRules.creationTime(b) ?? .distantPast
        return ta != tb ? ta < tb : (a.name ?? "") < (b.name ?? "")
    }
}
