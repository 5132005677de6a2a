import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// The scheduler's view of the cluster, kept up to date from informer events instead of being
/// rebuilt for every pod (Kubernetes' scheduler cache): one `NodeInfo` per node with its pods
/// and their sums, plus the pods this scheduler has *assumed* on a node: placed at once when
/// decided, so that the next decision sees them while the binding is still on its way, and
/// forgotten if the binding fails or, once it has been sent, if the informer has not shown the
/// pod bound within `assumedTTL`.
///
/// It also holds the nominations (Kubernetes' nominator): a pod that preempted others waits
/// for them to go with the node reserved for it, so that a pod of no higher priority is
/// placed as if the nominated pod already ran there.
///
/// Decisions run under the cache's lock (`place`), one at a time, each seeing the previous
/// one; informer events wait for a decision in progress, never the other way round.
final class SchedulerCache<C: Clock>: Sendable where C.Duration == Duration {
    private struct Assumed {
        var node: String
        var uid: String
        /// Set once the binding was sent; until then the pod never expires.
        var deadline: C.Instant?
    }

    private struct Nomination {
        var node: String
        var pod: PodInfo
        /// Whether the informer has shown the pod nominated; until then the nomination lives
        /// only here, and a copy without one is older than it, not a withdrawal.
        var confirmed: Bool
    }

    private struct State {
        /// Nodes that exist, in a stable order for the round-robin start; `index` finds them.
        var nodes: [NodeInfo] = []
        var index: [String: Int] = [:]
        /// Pods bound to nodes the cache has not seen (or no longer sees), by node name.
        var pending: [String: [String: PodInfo]] = [:]
        /// Node of every pod the cache counts, by pod key.
        var podNode: [String: String] = [:]
        var assumed: [String: Assumed] = [:]
        /// Pods this scheduler deleted to make room, by key, with their uid: they count as
        /// terminating before the informer says so.
        var deleting: [String: String] = [:]
        /// Waiting pods nominated to a node, by key.
        var nominations: [String: Nomination] = [:]
        /// Where the next cycle starts looking (Kubernetes' nextStartNodeIndex).
        var nextStart = 0

        mutating func place(_ pod: PodInfo, on node: String) {
            unplace(pod.key)
            podNode[pod.key] = node
            if let i = index[node] { nodes[i].add(pod) } else { pending[node, default: [:]][pod.key] = pod }
        }

        mutating func unplace(_ key: String) {
            guard let node = podNode.removeValue(forKey: key) else { return }
            if let i = index[node] {
                nodes[i].remove(key)
            } else {
                pending[node]?[key] = nil
                if pending[node]?.isEmpty == true { pending[node] = nil }
            }
        }

        /// The nodes as `pod` must see them: with the pods nominated to them that are at
        /// least as important as it, as if they already ran there.
        func nodes(for pod: PodInfo) -> [NodeInfo] {
            guard !nominations.isEmpty else { return nodes }
            let priority = Scheduler.priority(pod.pod)
            var out = nodes
            for (key, n) in nominations where key != pod.key && Scheduler.priority(n.pod.pod) >= priority {
                if let i = index[n.node] { out[i].add(n.pod) }
            }
            return out
        }

        /// An unbound pod changed: its nomination follows the copy, unless the copy predates
        /// a nomination made here.
        mutating func updateNomination(_ pod: JSONValue, key: String) {
            let node = pod[path: ["status", "nominatedNodeName"]]?.stringValue ?? ""
            if !node.isEmpty && Scheduler.needsScheduling(pod) {
                nominations[key] = Nomination(node: node, pod: PodInfo(pod), confirmed: true)
            } else if let n = nominations[key], n.confirmed || n.pod.uid != (pod.uid ?? "") || !Scheduler.needsScheduling(pod) {
                nominations[key] = nil
            }
        }
    }

    private let clock: C
    private let state = NIOLockedValueBox(State())
    /// How long a sent binding may stay unconfirmed by the informer.
    let assumedTTL: Duration

    init(clock: C, assumedTTL: Duration = .seconds(30)) {
        self.clock = clock
        self.assumedTTL = assumedTTL
    }

    // MARK: - informer events

    /// A node appeared or changed.
    func setNode(_ node: JSONValue) {
        guard let name = node.name, !name.isEmpty else { return }
        state.withLockedValue { s in
            if let i = s.index[name] {
                s.nodes[i].setNode(node)
                return
            }
            var info = NodeInfo(node: node)
            for pod in (s.pending.removeValue(forKey: name) ?? [:]).values { info.add(pod) }
            s.index[name] = s.nodes.count
            s.nodes.append(info)
        }
    }

    /// A node went away; its pods wait for it to come back (or to be deleted themselves).
    func removeNode(_ name: String) {
        state.withLockedValue { s in
            guard let i = s.index.removeValue(forKey: name) else { return }
            let gone = s.nodes[i]
            let last = s.nodes.removeLast()
            if i < s.nodes.count {
                s.nodes[i] = last
                s.index[last.name] = i
            }
            if !gone.podInfos.isEmpty { s.pending[name] = gone.podInfos }
        }
    }

    /// A pod appeared or changed. Bound and not finished, it counts on its node; an assumed pod
    /// is confirmed once the informer shows it bound, and dropped if it was replaced meanwhile.
    func setPod(_ pod: JSONValue) {
        guard let key = ObjectCache.key(of: pod) else { return }
        let node = PodInfo.holdsNode(pod)
        state.withLockedValue { s in
            if let assumed = s.assumed[key] {
                if node == nil && assumed.uid == (pod.uid ?? "") { return }
                s.assumed[key] = nil
            }
            guard let node else {
                s.updateNomination(pod, key: key)
                return s.unplace(key)
            }
            s.nominations[key] = nil
            s.place(PodInfo(Self.terminating(pod, if: s.deleting[key]) ?? pod), on: node)
        }
    }

    /// `pod` preempted others on `node` and waits for them there.
    func nominate(_ pod: PodInfo, on node: String) {
        state.withLockedValue { s in s.nominations[pod.key] = Nomination(node: node, pod: pod, confirmed: false) }
    }

    /// The node `key` is nominated to, if any.
    func nomination(of key: String) -> String? { state.withLockedValue { $0.nominations[key]?.node } }

    /// The scheduler deleted this pod (a preemption victim): until the informer shows it gone,
    /// it counts as terminating, so that a retry of the preemptor sees its victims on their way
    /// out even if the informer has not shown the deletion yet.
    func markDeleting(key: String, uid: String) {
        state.withLockedValue { s in
            s.deleting[key] = uid
            guard let node = s.podNode[key], let i = s.index[node], let info = s.nodes[i].podInfos[key],
                  let pod = Self.terminating(info.pod, if: uid) else { return }
            s.place(PodInfo(pod), on: node)
        }
    }

    /// `pod` with a deletionTimestamp when it is the one being deleted and has none yet.
    private static func terminating(_ pod: JSONValue, if deletingUID: String?) -> JSONValue? {
        guard let deletingUID, pod.uid == deletingUID, pod[path: ["metadata", "deletionTimestamp"]] == nil else { return nil }
        var marked = pod
        marked[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
        return marked
    }

    /// A pod went away.
    func removePod(key: String) {
        state.withLockedValue { s in
            s.assumed[key] = nil
            s.deleting[key] = nil
            s.nominations[key] = nil
            s.unplace(key)
        }
    }

    // MARK: - scheduling cycle

    /// Runs `decide` over the nodes (and where to start looking) under the lock; a `.bind`
    /// answer assumes the pod on that node before anyone else can decide.
    func place(_ pod: PodInfo,
               decide: ([NodeInfo], Int) -> (decision: SchedulingDecision, evaluated: Int)) -> SchedulingDecision {
        let now = clock.now
        return state.withLockedValue { s in
            expire(&s, now: now)
            let (decision, evaluated) = decide(s.nodes(for: pod), s.nextStart)
            if !s.nodes.isEmpty { s.nextStart = (s.nextStart + evaluated) % s.nodes.count }
            if case .bind(let node) = decision {
                s.nominations[pod.key] = nil
                var bound = pod.pod
                bound[path: ["spec", "nodeName"]] = .string(node)
                s.place(PodInfo(bound), on: node)
                s.assumed[pod.key] = Assumed(node: node, uid: pod.uid, deadline: nil)
            }
            return decision
        }
    }

    /// The binding of an assumed pod was sent: it expires `assumedTTL` from now unless the
    /// informer confirms it first.
    func finishBinding(_ key: String) {
        let deadline = clock.now.advanced(by: assumedTTL)
        state.withLockedValue { s in s.assumed[key]?.deadline = deadline }
    }

    /// The binding failed: the pod leaves its node.
    func forget(_ key: String) {
        state.withLockedValue { s in
            guard s.assumed.removeValue(forKey: key) != nil else { return }
            s.unplace(key)
        }
    }

    /// Whether `key` is assumed and not yet confirmed or expired.
    func isAssumed(_ key: String) -> Bool {
        let now = clock.now
        return state.withLockedValue { s in
            expire(&s, now: now)
            return s.assumed[key] != nil
        }
    }

    private func expire(_ s: inout State, now: C.Instant) {
        for (key, entry) in s.assumed {
            guard let deadline = entry.deadline, deadline <= now else { continue }
            s.assumed[key] = nil
            s.unplace(key)
        }
    }

    // MARK: - reading

    /// How many nodes the cache knows.
    var nodeCount: Int { state.withLockedValue { $0.nodes.count } }

    /// Every node the cache knows, with its pods.
    var nodes: [NodeInfo] { state.withLockedValue { $0.nodes } }

    /// The nodes as `pod` sees them: with the pods nominated there that are at least as
    /// important as it.
    func nodes(for pod: PodInfo) -> [NodeInfo] { state.withLockedValue { $0.nodes(for: pod) } }

    /// The node a pod counts on, if any.
    func node(ofPod key: String) -> String? { state.withLockedValue { $0.podNode[key] } }
}
