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
/// Decisions run under the cache's lock (`place`), one at a time, each seeing the previous
/// one; informer events wait for a decision in progress, never the other way round.
final class SchedulerCache<C: Clock>: Sendable where C.Duration == Duration {
    private struct Assumed {
        var node: String
        var uid: String
        /// Set once the binding was sent; until then the pod never expires.
        var deadline: C.Instant?
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
            if let node { s.place(PodInfo(pod), on: node) } else { s.unplace(key) }
        }
    }

    /// A pod went away.
    func removePod(key: String) {
        state.withLockedValue { s in
            s.assumed[key] = nil
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
            let (decision, evaluated) = decide(s.nodes, s.nextStart)
            if !s.nodes.isEmpty { s.nextStart = (s.nextStart + evaluated) % s.nodes.count }
            if case .bind(let node) = decision {
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

    /// The node a pod counts on, if any.
    func node(ofPod key: String) -> String? { state.withLockedValue { $0.podNode[key] } }
}
