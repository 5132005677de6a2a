import Foundation
import KubeClient
import KubeModel

/// Kubernetes' node lifecycle controller with its taint manager, as a reconciler over node
/// names. A node whose kubelet stopped renewing its Lease in `kube-node-lease` (or, without
/// a Lease, stopped posting its Ready heartbeat) for the grace period gets every condition
/// set to Unknown/NodeStatusUnknown; nodes get the `unreachable` or `not-ready` NoExecute and
/// NoSchedule taints while they are not Ready, and lose them once Ready again. Pods on a node
/// with a NoExecute taint they do not tolerate are deleted at once; pods tolerating it for
/// `tolerationSeconds` are deleted when that runs out, so their owners replace them elsewhere.
///
/// Staleness compares the Lease's `renewTime` with `now()`, which assumes kubelet and
/// controller clocks roughly agree (Kubernetes instead times when it saw the Lease change).
public struct NodeLifecycleController: Reconciler {
    static let component = "node-controller"
    static let nodeResource = ResourcePath.core("nodes")
    static let podResource = ResourcePath.core("pods")
    static let leaseResource = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases",
                                            namespace: NodeLifecycle.leaseNamespace)

    let client: any ResourceClient
    let nodes: ObjectCache
    let leases: ObjectCache
    let pods: ObjectCache
    /// `nodeMonitorGracePeriod`: how long a node may stay silent before it is Unknown.
    let gracePeriod: Duration
    /// Wall clock, injected so that tests decide what time it is.
    let now: @Sendable () -> Date
    let taintClock = NoExecuteTaintClock()

    init(client: any ResourceClient, nodes: ObjectCache, leases: ObjectCache, pods: ObjectCache,
         gracePeriod: Duration = .seconds(40), now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.nodes = nodes
        self.leases = leases
        self.pods = pods
        self.gracePeriod = gracePeriod
        self.now = now
    }

    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: Self.component, correlator: correlator) }

    /// Watches nodes, their Leases, and pods on NoExecute-tainted nodes; keys are node names.
    static func descriptor(client: any ResourceClient, gracePeriod: Duration, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "nodelifecycle", workers: workers) { wiring in
            let nodes = wiring.cache(nodeResource)
            let events = handlers(nodes: nodes, enqueue: wiring.enqueue)
            wiring.watch(nodeResource, events.node)
            wiring.watch(leaseResource, events.lease)
            wiring.watch(podResource, events.pod)
            return NodeLifecycleController(client: client, nodes: nodes, leases: wiring.cache(leaseResource),
                                           pods: wiring.cache(podResource), gracePeriod: gracePeriod)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard var node = nodes.get(key), let name = node.name else { return .done }
        let now = self.now()
        let grace = NodeLifecycle.seconds(gracePeriod)
        let lease = leases.get(namespace: NodeLifecycle.leaseNamespace, name: name)
        let stale = NodeLifecycle.isStale(node: node, lease: lease, now: now, grace: grace)
        if stale, let conditions = NodeLifecycle.unknownConditions(node, now: now) {
            guard let updated = try await patch(node, status: ["conditions": .array(conditions)]) else { return .done }
            node = updated
            await recorder.record(node, apiVersion: "v1", kind: "Node", reason: "NodeNotReady",
                                  message: "Node \(name) status is now: NodeNotReady")
        }
        let health = NodeLifecycle.health(node: node, stale: stale)
        let taints = NodeLifecycle.desiredTaints(node, health: health, now: now)
        if taints != NodeLifecycle.taints(node) {
            if health == .notReady, !NodeLifecycle.taints(node).contains(where: NodeLifecycle.isNotReadyTaint) {
                await recorder.record(node, apiVersion: "v1", kind: "Node", reason: "NodeNotReady",
                                      message: "Node \(name) status is now: NodeNotReady")
            }
            guard let updated = try await patch(node, spec: ["taints": .array(taints)]) else { return .done }
            node = updated
        }

        // Look again when the lease would go stale, or when the next toleration runs out.
        var next = stale ? nil : NodeLifecycle.lastHeartbeat(node: node, lease: lease).map { $0.addingTimeInterval(grace) }
        let stamped = taintClock.stamp(node: name, taints: NodeLifecycle.taints(node), now: now)
        // Only NoExecute taints evict: without one, the node's pods are not looked at. The cache's
        // node index finds them: a scan of every pod per node is quadratic with thousands of nodes.
        let evicting = stamped.contains { $0["effect"]?.stringValue == "NoExecute" }
        for pod in evicting ? pods.list(nodeName: name) : [] where !ObjectRules.isTerminating(pod) {
            switch NodeLifecycle.eviction(pod: pod, taints: stamped, now: now) {
            case .keep: continue
            case .at(let date): next = min(next ?? date, date)
            case .now: try await evict(pod)
            }
        }
        guard let next else { return .done }
        // A little past the deadline, so that the next look is not a few microseconds early.
        return .requeue(after: .milliseconds(max(0, Int64(next.timeIntervalSince(now) * 1000)) + 100))
    }

    // MARK: - writes

    /// Merge-patches the node (spec) or its `/status`, guarded by the cached resourceVersion:
    /// the taint and condition lists replace the stored ones whole. `nil` if the node is gone.
    private func patch(_ node: JSONValue, spec: JSONValue? = nil, status: JSONValue? = nil) async throws -> JSONValue? {
        var path = Self.nodeResource.named(node.name ?? "")
        var body: JSONValue = ["metadata": ["resourceVersion": .string(node.resourceVersion ?? "")]]
        if let spec { body["spec"] = spec }
        if let status {
            body["status"] = status
            path.subresource = "status"
        }
        do {
            return try await client.patch(path.path, body, type: .merge)
        } catch let e as KubeAPIError where e.isNotFound {
            return nil
        }
    }

    private func evict(_ pod: JSONValue) async throws {
        let path = Self.podResource.inNamespace(pod.namespace).named(pod.name ?? "")
        // Only this very pod: a replacement with the same name must not go in its place.
        let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "preconditions": ["uid": .string(pod.uid ?? "")]]
        do {
            _ = try await client.delete(path.path, options: options)
        } catch let e as KubeAPIError where e.isNotFound || e.isConflict {
            return
        }
        await recorder.record(pod, apiVersion: "v1", kind: "Pod", reason: "TaintManagerEviction",
                              message: "Marking for deletion Pod \(pod.namespace ?? "")/\(pod.name ?? "")")
    }

    // MARK: - events to keys

    /// Nodes and their Leases wake the node; pods wake their node only while it carries a
    /// NoExecute taint (a pod landing there may have to go).
    static func handlers(nodes: ObjectCache, enqueue: @escaping ControllerEvents.Enqueue)
        -> (node: InformerHandler, lease: InformerHandler, pod: InformerHandler) {
        let node = ControllerEvents.ownHandler(enqueue)
        let lease = InformerHandler.any { lease in if let name = lease.name { enqueue(name) } }
        let pod = InformerHandler.any { pod in
            guard let name = pod[path: ["spec", "nodeName"]]?.stringValue, !name.isEmpty,
                  let node = nodes.get(name), NodeLifecycle.taints(node).contains(where: { $0["effect"]?.stringValue == "NoExecute" })
            else { return }
            enqueue(name)
        }
        return (node, lease, pod)
    }
}

/// What the node lifecycle controller concludes about a node.
enum NodeHealth: Sendable, Equatable {
    case ready, notReady, unknown
}

/// The node lifecycle controller's decisions, as pure functions of objects and a time.
enum NodeLifecycle {
    static let leaseNamespace = "kube-node-lease"
    static let unreachableTaint = "node.kubernetes.io/unreachable"
    static let notReadyTaint = "node.kubernetes.io/not-ready"

    /// When an eviction is due.
    enum Eviction: Sendable, Equatable {
        case keep, now
        case at(Date)
    }

    static func seconds(_ d: Duration) -> TimeInterval {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func taints(_ node: JSONValue) -> [JSONValue] { node[path: ["spec", "taints"]]?.arrayValue ?? [] }

    static func isNotReadyTaint(_ taint: JSONValue) -> Bool { taint["key"]?.stringValue == notReadyTaint }

    /// The node's last sign of life: its Lease's renewTime (or acquireTime), else the Ready
    /// condition's heartbeat, else its creation (a new node gets one grace period).
    static func lastHeartbeat(node: JSONValue, lease: JSONValue?) -> Date? {
        let times: [JSONValue?] = [
            lease?[path: ["spec", "renewTime"]], lease?[path: ["spec", "acquireTime"]],
            ObjectRules.condition(node, "Ready")?["lastHeartbeatTime"], node[path: ["metadata", "creationTimestamp"]],
        ]
        return times.lazy.compactMap { $0?.stringValue.flatMap(Timestamp.parse) }.first
    }

    /// Silent for longer than `grace` seconds at `now`.
    static func isStale(node: JSONValue, lease: JSONValue?, now: Date, grace: TimeInterval) -> Bool {
        guard let last = lastHeartbeat(node: node, lease: lease) else { return false }
        return now.timeIntervalSince(last) > grace
    }

    /// Unknown when silent; otherwise what its Ready condition says (a node we marked Unknown
    /// stays so until its kubelet posts Ready again).
    static func health(node: JSONValue, stale: Bool) -> NodeHealth {
        if stale { return .unknown }
        switch ObjectRules.condition(node, "Ready")?["status"]?.stringValue {
        case "True": return .ready
        case "False": return .notReady
        default: return .unknown
        }
    }

    /// Every condition (and Ready, if missing) as Unknown/NodeStatusUnknown, keeping heartbeat
    /// times; `nil` when they are all so already.
    static func unknownConditions(_ node: JSONValue, now: Date) -> [JSONValue]? {
        var conditions = node[path: ["status", "conditions"]]?.arrayValue ?? []
        if !conditions.contains(where: { $0["type"]?.stringValue == "Ready" }) {
            conditions.append(["type": "Ready", "status": "False"])
        }
        var changed = false
        conditions = conditions.map { c in
            guard c["status"]?.stringValue != "Unknown" || c["reason"]?.stringValue != "NodeStatusUnknown" else { return c }
            changed = true
            var u = c
            if c["status"]?.stringValue != "Unknown" { u["lastTransitionTime"] = .string(Timestamp.format(now)) }
            u["status"] = "Unknown"
            u["reason"] = "NodeStatusUnknown"
            u["message"] = "Kubelet stopped posting node status."
            return u
        }
        return changed ? conditions : nil
    }

    /// The node's taints with the lifecycle taints `health` calls for: `unreachable` when
    /// Unknown, `not-ready` when NotReady, neither when Ready. Other taints, and the time a
    /// kept taint was added, are left alone.
    static func desiredTaints(_ node: JSONValue, health: NodeHealth, now: Date) -> [JSONValue] {
        let wanted: String? = switch health {
        case .ready: nil
        case .notReady: notReadyTaint
        case .unknown: unreachableTaint
        }
        let current = taints(node)
        var out = current.filter { t in
            let key = t["key"]?.stringValue
            return (key != unreachableTaint && key != notReadyTaint) || key == wanted
        }
        guard let wanted else { return out }
        for effect in ["NoSchedule", "NoExecute"]
        where !out.contains(where: { $0["key"]?.stringValue == wanted && $0["effect"]?.stringValue == effect }) {
            var taint: JSONValue = ["key": .string(wanted), "effect": .string(effect)]
            if effect == "NoExecute" { taint["timeAdded"] = .string(Timestamp.format(now)) }
            out.append(taint)
        }
        return out
    }

    /// The taint manager's verdict for `pod` under `taints`: at once for an untolerated
    /// NoExecute taint; otherwise the earliest time some NoExecute taint's shortest
    /// `tolerationSeconds` (counted from the taint's `timeAdded`) runs out; never when every
    /// matching toleration is unbounded.
    static func eviction(pod: JSONValue, taints: [JSONValue], now: Date) -> Eviction {
        let tolerations = pod[path: ["spec", "tolerations"]]?.arrayValue ?? []
        var due: Date?
        for taint in taints where taint["effect"]?.stringValue == "NoExecute" {
            let matching = tolerations.filter { SchedulingFilters.toleration($0, tolerates: taint) }
            if matching.isEmpty { return .now }
            let bounded = matching.compactMap { $0["tolerationSeconds"]?.intValue }
            guard let seconds = bounded.min() else { continue }
            let added = taint["timeAdded"]?.stringValue.flatMap(Timestamp.parse) ?? now
            let deadline = added.addingTimeInterval(TimeInterval(max(0, seconds)))
            due = min(due ?? deadline, deadline)
        }
        guard let due else { return .keep }
        return due <= now ? .now : .at(due)
    }
}
