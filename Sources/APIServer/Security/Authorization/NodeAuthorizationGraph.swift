import KubeModel
import Logging
import ServiceLifecycle
import Synchronization

/// What the pods bound to each node use (Secrets, ConfigMaps, claims, ServiceAccounts), kept current
/// from the store's pod watch, as Kubernetes' node authorizer keeps its graph. A "yes" from it
/// is final; a "no" may only mean the watch has not caught up with a pod bound a moment ago,
/// so `NodeAuthorizer` then reads the store before it refuses. A kubelet's routine reads thus
/// cost a lookup instead of a scan over every pod of the namespace.
public final class NodeAuthorizationGraph: Service, Sendable {
    struct Entry: Equatable {
        var node: String
        var namespace: String
        var serviceAccount: String
        var references: PodReferences
    }

    struct State {
        /// By pod key.
        var pods: [String: Entry] = [:]
        /// Reference counts by `edgeKey`.
        var edges: [String: Int] = [:]
    }

    static let podPrefix = "/registry/core/pods/"

    let store: any Store
    let logger: Logger
    private let state = Mutex(State())

    public init(store: any Store, logger: Logger = Logger(label: "caravel.node-graph")) {
        self.store = store
        self.logger = logger
    }

    static func edgeKey(node: String, kind: String, namespace: String, name: String) -> String {
        [node, kind, namespace, name].joined(separator: "\u{0}")
    }

    /// Whether a pod bound to `node` uses the object (`kind`: secrets, configmaps or
    /// serviceaccounts), as far as the watch has seen.
    func has(node: String, kind: String, namespace: String, name: String) -> Bool {
        let key = Self.edgeKey(node: node, kind: kind, namespace: namespace, name: name)
        return state.withLock { ($0.edges[key] ?? 0) > 0 }
    }

    var podCount: Int { state.withLock { $0.pods.count } }

    /// Takes in the pod stored under `key` (nil: gone).
    func apply(key: String, pod: JSONValue?) {
        let entry = pod.flatMap(Self.entry)
        state.withLock { s in
            let old = s.pods[key]
            guard old != entry else { return }
            if let old { Self.count(old, by: -1, in: &s.edges) }
            if let entry { Self.count(entry, by: 1, in: &s.edges) }
            s.pods[key] = entry
        }
    }

    /// A pod matters only once bound to a node.
    static func entry(_ pod: JSONValue) -> Entry? {
        guard let node = pod[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty, let ns = pod.namespace else { return nil }
        let sa = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        return Entry(node: node, namespace: ns, serviceAccount: sa.isEmpty ? "default" : sa, references: PodReferences(pod))
    }

    private static func count(_ e: Entry, by delta: Int, in edges: inout [String: Int]) {
        func bump(_ kind: String, _ name: String) {
            let key = edgeKey(node: e.node, kind: kind, namespace: e.namespace, name: name)
            let n = (edges[key] ?? 0) + delta
            edges[key] = n > 0 ? n : nil
        }
        bump("serviceaccounts", e.serviceAccount)
        for name in e.references.secrets { bump("secrets", name) }
        for name in e.references.configMaps { bump("configmaps", name) }
        for name in e.references.claims { bump("persistentvolumeclaims", name) }
    }

    /// Lists the pods, then follows the watch; lists again when the watch's history is gone.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let revision = try await relist()
                try await follow(after: revision)
            } catch {
                logger.debug("node authorization graph restarts", metadata: ["error": .string("\(error)")])
                _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    private func relist() async throws -> Int64 {
        let revision = try await store.currentRevision()
        var fresh: [String: JSONValue] = [:]
        var after: String?
        repeat {
            let page = try await store.list(prefix: Self.podPrefix, startAfter: after, limit: 500, atRevision: revision)
            for item in page.items { fresh[item.key] = item.object }
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        let known = state.withLock { Array($0.pods.keys) }
        for key in known where fresh[key] == nil { apply(key: key, pod: nil) }
        for (key, pod) in fresh { apply(key: key, pod: pod) }
        return revision
    }

    private func follow(after revision: Int64) async throws {
        let subscription = try store.watch(prefix: Self.podPrefix, after: revision)
        await withGracefulShutdownHandler {
            for await item in subscription.items {
                guard case .event(let e) = item else { continue }
                apply(key: e.key, pod: e.kind == .deleted ? nil : e.object)
            }
        } onGracefulShutdown: {
            subscription.cancel()
        }
        subscription.cancel()
        if Task.isCancelled || Task.isShuttingDownGracefully { return }
        // The hub cut the watch off (it fell behind): list again.
        throw StoreError.io("pod watch ended")
    }
}
