import Foundation
import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// Kubernetes' default scheduler as a reconciler over pod keys: a pending pod without a node
/// that names `default-scheduler` (or no scheduler) is filtered against every node, the feasible
/// nodes are scored, and the pod is bound to the best through `pods/{name}/binding`. A pod that
/// fits nowhere gets `PodScheduled=False/Unschedulable` and a `FailedScheduling` event, and is
/// looked at again with backoff and whenever nodes change or bound pods go away.
///
/// Run it with one worker: like Kubernetes, it places one pod at a time so that each decision
/// sees the previous ones.
public struct Scheduler: Reconciler {
    static let name = "default-scheduler"
    static let nodeResource = ResourcePath.core("nodes")
    static let podResource = ResourcePath.core("pods")
    static let eventResource = ResourcePath.core("events")

    let client: any ResourceClient
    let pods: ObjectCache
    let nodes: ObjectCache
    let assumed: AssumedPods
    let backoff: UnschedulableBackoff
    /// The pods' PersistentVolumeClaims (nil: pods are placed as if they had none).
    let volumes: VolumeBinding?

    init(client: any ResourceClient, pods: ObjectCache, nodes: ObjectCache, volumes: VolumeBinding? = nil,
         assumed: AssumedPods = AssumedPods(), backoff: UnschedulableBackoff = UnschedulableBackoff()) {
        self.client = client
        self.volumes = volumes
        self.pods = pods
        self.nodes = nodes
        self.assumed = assumed
        self.backoff = backoff
    }

    /// Watches pods (unassigned ones are keys) and nodes (a change may fit waiting pods). One
    /// worker: each placement must see the previous one.
    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "scheduler", workers: 1) { wiring in
            let pods = wiring.cache(podResource)
            wiring.watch(podResource, podHandler(pods: pods, enqueue: wiring.enqueue))
            wiring.watch(nodeResource, nodeHandler(pods: pods, enqueue: wiring.enqueue))
            return Scheduler(client: client, pods: pods, nodes: wiring.cache(nodeResource),
                             volumes: VolumeBinding.wire(wiring, pods: pods))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let pod = pods.get(key), Self.needsScheduling(pod), !assumed.contains(key, pods: pods) else {
            backoff.forget(key)
            return .done
        }
        let nodes = snapshot()
        var plan = VolumeBinding.Plan()
        if let volumes {
            switch volumes.plan(for: pod) {
            case .success(let p): plan = p
            case .failure(let e):
                try await recordUnschedulable(pod, message: "0/\(nodes.count) nodes are available: \(e.message).")
                return .requeue(after: backoff.next(key))
            }
        }
        let volumeFailure = { (info: NodeInfo) in plan.isEmpty ? nil : volumes?.failure(plan, on: info.node) }
        switch SchedulingScore.schedule(pod: pod, nodes: nodes, extraFilter: volumeFailure) {
        case .bind(let node):
            if !plan.waiting.isEmpty { try await volumes?.selectNode(node, for: plan, client: client) }
            try await bind(pod, to: node, key: key)
            backoff.forget(key)
            return .done
        case .unschedulable(let message):
            try await recordUnschedulable(pod, message: message)
            return .requeue(after: backoff.next(key))
        }
    }

    /// Pending, unassigned, not finished or going away, and ours to place.
    static func needsScheduling(_ pod: JSONValue) -> Bool {
        let node = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let scheduler = pod[path: ["spec", "schedulerName"]]?.stringValue ?? ""
        return node.isEmpty && (scheduler.isEmpty || scheduler == name)
            && ObjectRules.isActive(pod)
    }

    /// Every node with the non-terminal pods bound to it, counting pods this scheduler bound
    /// that the cache has not shown as bound yet.
    func snapshot() -> [NodeInfo] {
        var byNode: [String: [JSONValue]] = [:]
        for pod in assumed.overlay(pods.list(), pods: pods) {
            guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else { continue }
            let phase = pod[path: ["status", "phase"]]?.stringValue
            if phase == "Succeeded" || phase == "Failed" { continue }
            byNode[node, default: []].append(pod)
        }
        return nodes.list().map { NodeInfo(node: $0, pods: byNode[$0.name ?? ""] ?? []) }
    }

    // MARK: - writes

    private func bind(_ pod: JSONValue, to node: String, key: String) async throws {
        let name = pod.name ?? ""
        var path = Self.podResource.inNamespace(pod.namespace).named(name)
        path.subresource = "binding"
        let binding: JSONValue = [
            "apiVersion": "v1", "kind": "Binding",
            "metadata": ["name": .string(name), "namespace": .string(pod.namespace ?? ""), "uid": .string(pod.uid ?? "")],
            "target": ["apiVersion": "v1", "kind": "Node", "name": .string(node)],
        ]
        do {
            _ = try await client.create(path.path, binding)
        } catch let e as KubeAPIError where e.isNotFound || e.isConflict {
            // Gone, replaced, or bound by someone else: nothing left to do for this pod.
            return
        }
        var bound = pod
        bound[path: ["spec", "nodeName"]] = .string(node)
        assumed.assume(key, pod: bound)
        try? await event(pod, type: "Normal", reason: "Scheduled",
                         message: "Successfully assigned \(pod.namespace ?? "")/\(name) to \(node)")
    }

    /// Writes the PodScheduled condition when it says something new (so that our own status
    /// write, seen by the informer, settles), and an event each time it does.
    private func recordUnschedulable(_ pod: JSONValue, message: String) async throws {
        let current = ObjectRules.condition(pod, "PodScheduled")
        guard current?["status"]?.stringValue != "False" || current?["reason"]?.stringValue != "Unschedulable"
            || current?["message"]?.stringValue != message else { return }
        var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        let transition = current?["status"]?.stringValue == "False" ? current?["lastTransitionTime"] : nil
        conditions.append([
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
            "lastProbeTime": .null, "lastTransitionTime": transition ?? .string(Timestamp.now()),
        ])
        var path = Self.podResource.inNamespace(pod.namespace).named(pod.name ?? "")
        path.subresource = "status"
        // The list replaces the pod's conditions, so it must not be built from a stale copy.
        let patch: JSONValue = ["metadata": ["resourceVersion": .string(pod.resourceVersion ?? "")],
                                "status": ["conditions": .array(conditions)]]
        do {
            _ = try await client.patch(path.path, patch, type: .merge)
        } catch let e as KubeAPIError where e.isNotFound {
            return
        }
        try await event(pod, type: "Warning", reason: "FailedScheduling", message: message)
    }

    /// A core/v1 Event about `pod` from the default scheduler.
    private func event(_ pod: JSONValue, type: String, reason: String, message: String) async throws {
        await EventRecorder(client: client, component: Self.name)
            .record(pod, apiVersion: "v1", kind: "Pod", type: type, reason: reason, message: message, action: "Scheduling")
    }

    // MARK: - events to keys

    /// Pods: unassigned ones are queued on every change; when an assigned pod goes away or
    /// finishes, room may have opened, so every waiting pod is queued.
    static func podHandler(pods: ObjectCache, enqueue: @escaping ControllerEvents.Enqueue) -> InformerHandler {
        InformerHandler(
            onAdd: { pod in if needsScheduling(pod), let key = ObjectCache.key(of: pod) { enqueue(key) } },
            onUpdate: { old, new in
                if needsScheduling(new), let key = ObjectCache.key(of: new) { enqueue(key) }
                let wasHolding = !(old[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty && ObjectRules.isActive(old)
                let isHolding = !(new[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty && ObjectRules.isActive(new)
                if wasHolding && !isHolding { enqueueWaiting(pods, enqueue) }
            },
            onDelete: { pod in
                if !(pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty { enqueueWaiting(pods, enqueue) }
            })
    }

    /// Nodes: any change that can alter a filter's answer queues every waiting pod; status
    /// heartbeats alone do not.
    static func nodeHandler(pods: ObjectCache, enqueue: @escaping ControllerEvents.Enqueue) -> InformerHandler {
        InformerHandler(
            onAdd: { _ in enqueueWaiting(pods, enqueue) },
            onUpdate: { old, new in if schedulingView(old) != schedulingView(new) { enqueueWaiting(pods, enqueue) } },
            onDelete: { _ in enqueueWaiting(pods, enqueue) })
    }

    /// What the filters read of a node.
    static func schedulingView(_ node: JSONValue) -> JSONValue {
        [
            "labels": node[path: ["metadata", "labels"]] ?? .null, "spec": node["spec"] ?? .null,
            "allocatable": node[path: ["status", "allocatable"]] ?? .null,
            "capacity": node[path: ["status", "capacity"]] ?? .null,
            "ready": .bool(SchedulingFilters.isReady(node)),
        ]
    }

    static func enqueueWaiting(_ pods: ObjectCache, _ enqueue: ControllerEvents.Enqueue) {
        for pod in pods.list() where needsScheduling(pod) {
            if let key = ObjectCache.key(of: pod) { enqueue(key) }
        }
    }
}

/// Pods this scheduler bound whose binding the pod cache has not shown yet (Kubernetes'
/// "assumed" pods), so that the next decision counts them on their node.
final class AssumedPods: Sendable {
    private let state = NIOLockedValueBox<[String: (pod: JSONValue, at: ContinuousClock.Instant)]>([:])
    /// After this long an unconfirmed binding is forgotten (the watch must have shown it by then).
    let ttl: Duration

    init(ttl: Duration = .seconds(30)) { self.ttl = ttl }

    func assume(_ key: String, pod: JSONValue) {
        state.withLockedValue { $0[key] = (pod, .now) }
    }

    /// Whether `key` is assumed and still unconfirmed.
    func contains(_ key: String, pods: ObjectCache) -> Bool {
        prune(pods)
        return state.withLockedValue { $0[key] != nil }
    }

    /// `list` with assumed pods standing in for their unbound cached copies.
    func overlay(_ list: [JSONValue], pods: ObjectCache) -> [JSONValue] {
        prune(pods)
        let assumed = state.withLockedValue { $0.mapValues(\.pod) }
        guard !assumed.isEmpty else { return list }
        return list.map { pod in ObjectCache.key(of: pod).flatMap { assumed[$0] } ?? pod }
    }

    /// Drops entries whose pod is gone, shows a node (or another uid), or expired.
    private func prune(_ pods: ObjectCache) {
        let now = ContinuousClock.Instant.now
        let ttl = self.ttl
        state.withLockedValue { entries in
            entries = entries.filter { key, entry in
                guard let cached = pods.get(key), cached.uid == entry.pod.uid, now - entry.at < ttl else { return false }
                return (cached[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty
            }
        }
    }
}

/// Per-pod retry delays for unschedulable pods: 1 s doubling to 10 s (Kubernetes' pod
/// backoff defaults), reset once the pod is placed or gone.
final class UnschedulableBackoff: Sendable {
    private let attempts = NIOLockedValueBox<[String: Int]>([:])
    private let backoff = ItemBackoff<String>(base: .seconds(1), max: .seconds(10))

    func next(_ key: String) -> Duration {
        let n = attempts.withLockedValue { a in
            defer { a[key, default: 0] += 1 }
            return a[key, default: 0]
        }
        return backoff.delay(afterFailures: n)
    }

    func forget(_ key: String) { _ = attempts.withLockedValue { $0.removeValue(forKey: key) } }
}
