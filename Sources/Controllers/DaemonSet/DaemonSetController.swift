import Foundation
import KubeClient
import KubeModel

/// Runs one pod of each DaemonSet on every eligible node (Kubernetes' daemonset controller):
/// snapshots the template as a ControllerRevision, creates the missing daemon pods (the
/// scheduler binds them through their node-name affinity), deletes pods on nodes that no
/// longer qualify, failed pods and duplicates, replaces old-revision pods within
/// maxUnavailable/maxSurge (RollingUpdate; OnDelete waits for the user), prunes history and
/// reports the counts through `/status`.
public struct DaemonSetController: Reconciler {
    static let resource = ResourcePath(group: "apps", version: "v1", plural: "daemonsets")
    static let podResource = ResourcePath.core("pods")
    static let nodeResource = ResourcePath.core("nodes")

    let client: any ResourceClient
    let daemonSets: ObjectCache
    let pods: ObjectCache
    let nodes: ObjectCache
    let revisions: ObjectCache
    let expectations: Expectations
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "daemonset-controller", correlator: correlator) }

    init(client: any ResourceClient, daemonSets: ObjectCache, pods: ObjectCache, nodes: ObjectCache, revisions: ObjectCache,
         expectations: Expectations = Expectations(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.daemonSets = daemonSets
        self.pods = pods
        self.nodes = nodes
        self.revisions = revisions
        self.expectations = expectations
        self.now = now
    }

    /// Watches DaemonSets, their pods and revisions, and nodes (a node added, removed, or
    /// changed where placement reads it wakes every DaemonSet: a new node needs its pods, a
    /// relabelled or tainted one may lose them; status heartbeats wake none).
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "daemonset", workers: workers) { wiring in
            let expectations = Expectations()
            let daemonSets = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watch(podResource, ControllerEvents.dependentHandler(ownerKind: "DaemonSet", owners: daemonSets,
                                                                        expectations: expectations, enqueue: wiring.enqueue))
            wiring.watch(ControllerHistory.resource, ControllerEvents.dependentHandler(ownerKind: "DaemonSet", owners: daemonSets,
                                                                                      expectations: nil, enqueue: wiring.enqueue))
            let enqueue = wiring.enqueue
            let wakeAll: @Sendable (JSONValue) async -> Void = { _ in
                for ds in daemonSets.list() { if let key = ObjectCache.key(of: ds) { enqueue(key) } }
            }
            wiring.watch(nodeResource, InformerHandler(onAdd: wakeAll, onUpdate: { old, new in
                if DaemonPlacement.placementView(of: old) != DaemonPlacement.placementView(of: new) { await wakeAll(new) }
            }, onDelete: wakeAll))
            return DaemonSetController(client: client, daemonSets: daemonSets, pods: wiring.cache(podResource),
                                       nodes: wiring.cache(nodeResource), revisions: wiring.cache(ControllerHistory.resource),
                                       expectations: expectations)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let ds = daemonSets.get(key) else {
            await expectations.remove(key)
            return .done
        }
        // Deleting: the garbage collector removes the pods and revisions.
        guard !ObjectRules.isTerminating(ds), let selector = ObjectRules.selector(of: ds), let uid = ds.uid else { return .done }

        let history = ControllerHistory(client: client, owner: ds, ownerKind: "DaemonSet", hashLabel: ControllerHistory.podHashLabel)
        let existing = ControllerHistory.revisions(of: ds, in: revisions)
        let collisions = ObjectRules.int(ds[path: ["status", "collisionCount"]])
        let (current, collisionCount) = try await history.snapshot(existing: existing, collisionCount: collisions)
        let hash = current.labels[ControllerHistory.podHashLabel] ?? ""

        let owned = try await ownedPods(ds, uid: uid, selector: selector)
        let placement = DaemonNodes(ds: ds, nodes: nodes.list(), pods: owned, hash: hash, now: now())

        if await expectations.satisfied(key) {
            var plan = placement.basicPlan()
            if plan.isEmpty, ds[path: ["spec", "updateStrategy", "type"]]?.stringValue == "RollingUpdate" {
                plan = placement.rollingUpdatePlan()
            }
            try await carryOut(plan, ds: ds, key: key, hash: hash)
        }

        let live = Set(owned.compactMap { $0.labels[ControllerHistory.podHashLabel] } + [hash])
        try await history.truncate(ControllerHistory.revisions(of: ds, in: revisions), live: live,
                                   limit: ObjectRules.int(ds[path: ["spec", "revisionHistoryLimit"]], default: 10))
        return try await updateStatus(ds, placement: placement, collisionCount: collisionCount)
    }

    /// Active and failed pods controlled by `ds`; matching orphans are adopted.
    private func ownedPods(_ ds: JSONValue, uid: String, selector: LabelSelector) async throws -> [JSONValue] {
        var owned: [JSONValue] = []
        for pod in pods.list(namespace: ds.namespace ?? "") where !ObjectRules.isTerminating(pod) {
            if let ref = ObjectRules.controllerRef(of: pod) {
                if ref["uid"]?.stringValue == uid { owned.append(pod) }
            } else if selector.matches(pod.labels), DaemonPlacement.node(of: pod) != nil {
                owned.append(try await ControlledPods.adopt(pod, by: ds, apiVersion: "apps/v1", kind: "DaemonSet", client: client))
            }
        }
        return owned
    }

    /// Creates the planned pods, then deletes the planned victims.
    private func carryOut(_ plan: DaemonNodes.Plan, ds: JSONValue, key: String, hash: String) async throws {
        guard !plan.isEmpty else { return }
        await expectations.expect(key, adds: plan.createOn.count, deletes: plan.delete.count)
        let podsPath = Self.podResource.inNamespace(ds.namespace).path
        var firstError: (any Error)?
        for node in plan.createOn {
            do {
                let created = try await client.create(podsPath, DaemonPlacement.newPod(for: ds, node: node, hash: hash))
                await recorder.record(ds, apiVersion: "apps/v1", kind: "DaemonSet", reason: "SuccessfulCreate",
                                      message: "Created pod: \(created.name ?? "")")
            } catch {
                await expectations.creationObserved(key)
                await recorder.record(ds, apiVersion: "apps/v1", kind: "DaemonSet", type: "Warning", reason: "FailedCreate",
                                      message: "Error creating: \(error)")
                firstError = firstError ?? error
            }
        }
        let nodeNames = Set(nodes.list().compactMap(\.name))
        for pod in plan.delete {
            // No kubelet will confirm the end of a pod whose node is gone: delete it at once,
            // as Kubernetes' pod garbage collector does.
            let stranded = DaemonPlacement.node(of: pod).map { !nodeNames.contains($0) } ?? false
            do {
                try await ControlledPods.delete(pod, gracePeriodSeconds: stranded ? 0 : nil, client: client)
                await recorder.record(ds, apiVersion: "apps/v1", kind: "DaemonSet", reason: "SuccessfulDelete",
                                      message: "Deleted pod: \(pod.name ?? "")")
            } catch {
                await expectations.deletionObserved(key)
                if (error as? KubeAPIError)?.isNotFound != true { firstError = firstError ?? error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Writes the counts when they changed; asks to look again while a ready pod waits out
    /// minReadySeconds.
    private func updateStatus(_ ds: JSONValue, placement: DaemonNodes, collisionCount: Int) async throws -> ReconcileResult {
        var status = ds["status"] ?? .object([:])
        let before = status
        let counts = placement.counts()
        status["desiredNumberScheduled"] = .int(Int64(counts.desired))
        status["currentNumberScheduled"] = .int(Int64(counts.current))
        status["numberMisscheduled"] = .int(Int64(counts.misscheduled))
        status["numberReady"] = .int(Int64(counts.ready))
        status["updatedNumberScheduled"] = .int(Int64(counts.updated))
        status["numberAvailable"] = .int(Int64(counts.available))
        status["numberUnavailable"] = .int(Int64(counts.desired - counts.available))
        status["observedGeneration"] = ds[path: ["metadata", "generation"]] ?? .int(1)
        if collisionCount > 0 { status["collisionCount"] = .int(Int64(collisionCount)) }
        if status != before {
            var sub = Self.resource.inNamespace(ds.namespace).named(ds.name ?? "")
            sub.subresource = "status"
            do { _ = try await client.patch(sub.path, ["status": status], type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
        }
        guard counts.ready > counts.available else { return .done }
        return .requeue(after: .seconds(1))
    }
}
