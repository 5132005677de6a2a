import Foundation
import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// Kubernetes' default scheduler as a reconciler over pod keys: a pending pod without a node
/// that names `default-scheduler` (or no scheduler) is filtered against the nodes of the
/// scheduler's cache, the feasible nodes are scored, and the pod is bound to the best through
/// `pods/{name}/binding`. A pod that fits nowhere gets `PodScheduled=False/Unschedulable` and a
/// `FailedScheduling` event, and is looked at again with backoff and whenever nodes change or
/// bound pods go away.
///
/// Decisions are made one at a time under the cache's lock, and the chosen node is assumed at
/// once, so each decision sees the previous ones; the bindings are then posted by up to
/// `bindingsInFlight` workers at once, none waiting for the one before.
public struct Scheduler: Reconciler {
    static let name = "default-scheduler"
    static let nodeResource = ResourcePath.core("nodes")
    static let podResource = ResourcePath.core("pods")
    static let eventResource = ResourcePath.core("events")
    /// Workers, hence bindings on their way at once. Kubernetes binds each pod on a goroutine
    /// of its own, with no bound; with 32 a 10,000-pod rollout on a busy server queued pods for
    /// 28 s (p50) before their binding was sent, and with 128 for under a second.
    static let bindingsInFlight = 128

    let client: any ResourceClient
    let pods: ObjectCache
    let cache: SchedulerCache<ContinuousClock>
    let waiting: UnschedulablePods
    let backoff: UnschedulableBackoff
    /// The pods' PersistentVolumeClaims (nil: pods are placed as if they had none).
    let volumes: VolumeBinding?
    /// PodDisruptionBudgets, which preemption tries not to break (nil: none known).
    let budgets: ObjectCache?
    /// Folds a pod's repeated FailedScheduling events into counts.
    let correlator = EventCorrelator()

    init(client: any ResourceClient, pods: ObjectCache, cache: SchedulerCache<ContinuousClock>,
         waiting: UnschedulablePods = UnschedulablePods(), backoff: UnschedulableBackoff = UnschedulableBackoff(),
         volumes: VolumeBinding? = nil, budgets: ObjectCache? = nil) {
        self.client = client
        self.budgets = budgets
        self.pods = pods
        self.cache = cache
        self.waiting = waiting
        self.backoff = backoff
        self.volumes = volumes
    }

    /// Watches pods (unassigned ones are keys; bound ones feed the cache) and nodes (the cache;
    /// a change may fit waiting pods).
    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "scheduler", workers: bindingsInFlight, queuePriority: { informers in
            // Kubernetes' queue order: higher spec.priority first, then the order pods came in.
            let pods = informers.informer(for: podResource).cache
            return { key in pods.get(key).map(Self.priority) ?? 0 }
        }) { wiring in
            let cache = SchedulerCache(clock: ContinuousClock())
            let waiting = UnschedulablePods()
            wiring.watch(podResource, podHandler(cache: cache, waiting: waiting, enqueue: wiring.enqueue))
            wiring.watch(nodeResource, nodeHandler(cache: cache, waiting: waiting, enqueue: wiring.enqueue))
            let pods = wiring.cache(podResource)
            return Scheduler(client: client, pods: pods, cache: cache, waiting: waiting,
                             volumes: VolumeBinding.wire(wiring, pods: pods), budgets: wiring.cache(DisruptionController.resource))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let pod = pods.get(key), Self.needsScheduling(pod) else {
            waiting.remove(key)
            backoff.forget(key)
            return .done
        }
        if cache.isAssumed(key) { return .done }
        // Claims first (informer reads, outside the lock): what they ask of every node.
        var plan = VolumeBinding.Plan()
        if let volumes {
            switch volumes.plan(for: pod) {
            case .success(let p): plan = p
            case .failure(let e):
                waiting.insert(key)
                try await recordUnschedulable(pod, message: "0/\(cache.nodeCount) nodes are available: \(e.message).")
                return .requeue(after: backoff.next(key))
            }
        }
        let info = PodInfo(pod)
        let volumes = plan.isEmpty ? nil : self.volumes
        let volumeFilter: (PodInfo, NodeInfo) -> FilterFailure? = { _, node in
            volumes?.failure(plan, on: node.node).map(FilterFailure.other)
        }
        let decision = cache.place(info) { nodes, start in
            SchedulingScore.schedule(pod: info, nodes: nodes, start: start, extraFilter: volumeFilter)
        }
        switch decision {
        case .bind(let node):
            waiting.remove(key)
            do {
                if !plan.waiting.isEmpty { try await self.volumes?.selectNode(node, for: plan, client: client) }
                guard try await bind(pod, to: node) else {
                    cache.forget(key)
                    return .done
                }
            } catch {
                cache.forget(key)
                throw error
            }
            cache.finishBinding(key)
            backoff.forget(key)
            await event(pod, type: "Normal", reason: "Scheduled",
                        message: "Successfully assigned \(pod.namespace ?? "")/\(pod.name ?? "") to \(node)")
            return .done
        case .unschedulable(let message):
            waiting.insert(key)
            let budgets = self.budgets?.list().compactMap(PreemptionBudget.init) ?? []
            switch Preemption.find(pod: info, nodes: cache.nodes(for: info), nominated: cache.nomination(of: key),
                                   budgets: budgets, extraFilter: volumeFilter) {
            case .preempt(let candidate):
                cache.nominate(info, on: candidate.node)
                try await recordUnschedulable(pod, message: message, nominatedNode: candidate.node)
                await preempt(candidate, for: pod)
            case .none(let why):
                try await recordUnschedulable(pod, message: "\(message) preemption: \(why)")
            }
            return .requeue(after: backoff.next(key))
        }
    }

    /// `spec.priority` (set at admission; 0 when absent, as for a pod without a class).
    static func priority(_ pod: JSONValue) -> Int {
        pod[path: ["spec", "priority"]]?.intValue.map { Int(clamping: $0) } ?? 0
    }

    /// Pending, unassigned, not finished or going away, and ours to place.
    static func needsScheduling(_ pod: JSONValue) -> Bool {
        let node = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        let scheduler = pod[path: ["spec", "schedulerName"]]?.stringValue ?? ""
        return node.isEmpty && (scheduler.isEmpty || scheduler == name)
            && ObjectRules.isActive(pod)
    }

    // MARK: - writes

    /// Posts the Binding; false when the pod is gone, replaced or bound by someone else.
    private func bind(_ pod: JSONValue, to node: String) async throws -> Bool {
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
            return true
        } catch let e as KubeAPIError where e.isNotFound || e.isConflict {
            return false
        }
    }

    /// Writes the PodScheduled condition (and the node the pod is nominated to after a
    /// preemption) when it says something new (so that our own status write, seen by the
    /// informer, settles), and an event each time it does.
    func recordUnschedulable(_ pod: JSONValue, message: String, nominatedNode: String? = nil) async throws {
        let current = ObjectRules.condition(pod, "PodScheduled")
        let nominated = pod[path: ["status", "nominatedNodeName"]]?.stringValue
        guard current?["status"]?.stringValue != "False" || current?["reason"]?.stringValue != "Unschedulable"
            || current?["message"]?.stringValue != message || (nominatedNode != nil && nominatedNode != nominated) else { return }
        var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        let transition = current?["status"]?.stringValue == "False" ? current?["lastTransitionTime"] : nil
        conditions.append([
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message),
            "lastProbeTime": .null, "lastTransitionTime": transition ?? .string(Timestamp.now()),
        ])
        var path = Self.podResource.inNamespace(pod.namespace).named(pod.name ?? "")
        path.subresource = "status"
        // The list replaces the pod's conditions, so it must not be built from a stale copy.
        var patch: JSONValue = ["metadata": ["resourceVersion": .string(pod.resourceVersion ?? "")],
                                "status": ["conditions": .array(conditions)]]
        if let nominatedNode { patch[path: ["status", "nominatedNodeName"]] = .string(nominatedNode) }
        do {
            _ = try await client.patch(path.path, patch, type: .merge)
        } catch let e as KubeAPIError where e.isNotFound {
            return
        }
        await event(pod, type: "Warning", reason: "FailedScheduling", message: message)
    }

    /// A core/v1 Event about `pod` from the default scheduler.
    func event(_ pod: JSONValue, type: String, reason: String, message: String) async {
        await EventRecorder(client: client, component: Self.name, correlator: correlator)
            .record(pod, apiVersion: "v1", kind: "Pod", type: type, reason: reason, message: message, action: "Scheduling")
    }

    // MARK: - events to keys

    /// Pods: bound ones feed the cache; unassigned ones are queued on every change; when an
    /// assigned pod goes away or finishes, room may have opened, so unschedulable pods are
    /// queued again.
    static func podHandler<C>(cache: SchedulerCache<C>, waiting: UnschedulablePods,
                              enqueue: @escaping ControllerEvents.Enqueue) -> InformerHandler {
        InformerHandler(
            onAdd: { pod in
                cache.setPod(pod)
                if needsScheduling(pod), let key = ObjectCache.key(of: pod) { enqueue(key) }
            },
            onUpdate: { old, new in
                cache.setPod(new)
                if needsScheduling(new), !sameSpec(old, new), let key = ObjectCache.key(of: new) { enqueue(key) }
                let wasHolding = !(old[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty && ObjectRules.isActive(old)
                let isHolding = !(new[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty && ObjectRules.isActive(new)
                if wasHolding && !isHolding { enqueueWaiting(waiting, enqueue) }
            },
            onDelete: { pod in
                guard let key = ObjectCache.key(of: pod) else { return }
                cache.removePod(key: key)
                waiting.remove(key)
                if !(pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty { enqueueWaiting(waiting, enqueue) }
            })
    }

    /// Whether an update left everything but the status (and bookkeeping) alone: then a
    /// waiting pod keeps waiting, as in Kubernetes' queue. The scheduler's own status write
    /// (PodScheduled, the nomination) must not send the pod straight back into a cycle that
    /// would not yet see its victims going.
    static func sameSpec(_ old: JSONValue, _ new: JSONValue) -> Bool {
        func stripped(_ pod: JSONValue) -> JSONValue {
            var p = pod
            p["status"] = nil
            for field in ["resourceVersion", "generation", "managedFields"] { p[path: ["metadata", field]] = nil }
            return p
        }
        return stripped(old) == stripped(new)
    }

    /// Nodes: every change feeds the cache; one that can alter a filter's answer queues the
    /// unschedulable pods again (status heartbeats alone do not).
    static func nodeHandler<C>(cache: SchedulerCache<C>, waiting: UnschedulablePods,
                               enqueue: @escaping ControllerEvents.Enqueue) -> InformerHandler {
        InformerHandler(
            onAdd: { node in
                cache.setNode(node)
                enqueueWaiting(waiting, enqueue)
            },
            onUpdate: { old, new in
                cache.setNode(new)
                if schedulingView(old) != schedulingView(new) { enqueueWaiting(waiting, enqueue) }
            },
            onDelete: { node in
                cache.removeNode(node.name ?? "")
                enqueueWaiting(waiting, enqueue)
            })
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

    static func enqueueWaiting(_ waiting: UnschedulablePods, _ enqueue: ControllerEvents.Enqueue) {
        for key in waiting.all { enqueue(key) }
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
