import Foundation
import KubeClient
import KubeModel
import Logging

/// Enforces NetworkPolicy for one node's pods, as a policy-enforcing CNI agent does: an
/// informer on NetworkPolicies and, while any policy exists, informers on Pods and Namespaces
/// (cluster-wide: peers live anywhere) wake one loop, which compiles everything into the
/// node's nft table and applies it as a single transaction. With no policy no pod is isolated
/// whatever the pods are, so the pods are not watched at all: a cluster-wide pod cache would
/// cost memory for every pod and a parse and a compile for every pod change. Changes that
/// arrive together are applied together; an unchanged result is not reapplied. The first
/// apply replaces whatever table an earlier run left. While it isolates pods the table
/// outlives the kubelet, as those pods do (`caravel killall` removes it); a kubelet that stops
/// with no isolated pod removes it.
struct NetworkPolicyAgent: Sendable {
    let client: KubeRESTClient
    let nodeName: String
    let podCIDR: IPv4CIDR
    let paths: KubeletPaths
    let logger: Logger
    /// Told once, with the reason, when enforcement is off on this node.
    let reportUnsupported: @Sendable (String) async -> Void

    /// How long to let further changes gather before compiling (a Deployment scaling up
    /// changes many pods at once).
    static let batchDelay = Duration.milliseconds(100)

    func run() async {
        let nft: String
        switch NetworkPolicySupport.check() {
        case .success(let path): nft = path
        case .failure(let reason):
            logger.warning("NetworkPolicy is not enforced on this node", metadata: ["reason": "\(reason)"])
            await reportUnsupported(reason.description)
            return
        }
        let table = NetworkPolicyTable(nft: nft, paths: paths)
        let compiler = PolicyCompiler(table: NetworkPolicyTable.name(rootDirectory: paths.root, nodeName: nodeName), nodeName: nodeName, podCIDR: podCIDR)
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let wake = InformerHandler.any { _ in changed.yield() }
        let policies = Informer(source: RESTListWatch(client: client, path: "/apis/networking.k8s.io/v1/networkpolicies"))
        policies.addHandler(wake)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await policies.run() }
            var loop = ApplyLoop(changes: changes.makeAsyncIterator(), retry: changed, compiler: compiler, table: table, logger: logger)
            let guarded = await loop.run(policies: policies, peers: { Peers(client: client, wake: wake) })
            group.cancelAll()
            // Stopping with no isolated pod: nothing is left behind. With some, the table stays
            // and keeps guarding them (they outlive the kubelet; killall removes it).
            if guarded == 0 {
                do { _ = try await NetworkPolicyTable.removeRecorded(paths: paths) } catch {
                    logger.warning("could not remove the network policy table", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// What policies select from: every pod and namespace, watched while some policy exists.
    struct Peers: Sendable {
        let pods: Informer<ContinuousClock>
        let namespaces: Informer<ContinuousClock>
        var all: [Informer<ContinuousClock>] { [pods, namespaces] }

        init(client: KubeRESTClient, wake: InformerHandler) {
            pods = Informer(source: RESTListWatch(client: client, path: "/api/v1/pods"))
            namespaces = Informer(source: RESTListWatch(client: client, path: "/api/v1/namespaces"))
            for informer in all { informer.addHandler(wake) }
        }
    }

    /// Compiles and applies on every wake-up until cancelled.
    struct ApplyLoop {
        var changes: AsyncStream<Void>.Iterator
        let retry: AsyncStream<Void>.Continuation
        let compiler: PolicyCompiler
        let table: NetworkPolicyTable
        let logger: Logger
        var applied: (script: String, chains: Int)?
        var failures = 0

        /// Runs until cancelled; answers how many pod chains the table last applied holds (nil
        /// when nothing was applied). Nothing is applied before the informers it compiles from
        /// have listed: a partial view would drop traffic that a not-yet-seen policy or pod allows.
        mutating func run(policies: Informer<ContinuousClock>, peers makePeers: @Sendable () -> Peers) async -> Int? {
            guard await policies.waitForSync() else { return nil }
            retry.yield()
            var stopped = false
            while !stopped {
                var current = policies.cache.list().compactMap(PolicyDefinition.init)
                if current.isEmpty {
                    // No policy isolates any pod, whatever the pods are.
                    await apply(compiler.compile(policies: [], pods: [], namespaces: []))
                    stopped = await !nextChange()
                    continue
                }
                // The pods and namespaces the policies select from, watched until no policy is left.
                stopped = await withTaskGroup(of: Void.self) { group -> Bool in
                    let peers = makePeers()
                    for informer in peers.all { group.addTask { await informer.run() } }
                    defer { group.cancelAll() }
                    for informer in peers.all { guard await informer.waitForSync() else { return true } }
                    while !current.isEmpty {
                        await apply(compiler.compile(policies: current, pods: peers.pods.cache.list().compactMap(PolicyPod.init),
                                                     namespaces: peers.namespaces.cache.list().compactMap(PolicyNamespace.init)))
                        guard await nextChange() else { return true }
                        current = policies.cache.list().compactMap(PolicyDefinition.init)
                    }
                    return false
                }
            }
            return applied?.chains
        }

        /// Waits for a change and lets more gather; false once cancelled.
        private mutating func nextChange() async -> Bool {
            guard await changes.next() != nil else { return false }
            try? await Task.sleep(for: NetworkPolicyAgent.batchDelay)
            return !Task.isCancelled
        }

        private mutating func apply(_ ruleset: PolicyRuleset) async {
            let script = PolicyRulesetRenderer.script(ruleset)
            guard script != applied?.script else { return }
            do {
                try await table.apply(script)
                applied = (script, ruleset.chains.count)
                failures = 0
                logger.debug("network policy rules applied", metadata: ["table": "\(ruleset.table)", "chains": "\(ruleset.chains.count)"])
            } catch {
                failures += 1
                logger.error("applying network policy rules failed", metadata: ["error": "\(error)"])
                // Try again later even if nothing changes (a transient nft failure);
                // changes arriving meanwhile are folded into that attempt.
                try? await Task.sleep(for: .seconds(min(30, 1 << min(failures, 5))))
                retry.yield()
            }
        }
    }
}
