import Foundation
import KubeClient
import KubeModel
import Logging

/// Enforces NetworkPolicy for one node's pods, as a policy-enforcing CNI agent does: informers
/// on NetworkPolicies, Pods and Namespaces (cluster-wide: peers live anywhere) wake one loop,
/// which compiles everything into the node's nft table and applies it as a single transaction.
/// Changes that arrive together are applied together; an unchanged result is not reapplied.
/// The first apply replaces whatever table an earlier run left. While it isolates pods the
/// table outlives the kubelet, as those pods do (`caravel killall` removes it); a kubelet that
/// stops with no isolated pod removes it.
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
        let sources = Sources(client: client)
        for informer in sources.all { informer.addHandler(wake) }
        await withTaskGroup(of: Void.self) { group in
            for informer in sources.all { group.addTask { await informer.run() } }
            let guarded = await applyChanges(changes, retry: changed, sources: sources, compiler: compiler, table: table)
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

    /// The informers the rules are compiled from.
    private struct Sources: Sendable {
        let policies: Informer<ContinuousClock>
        let pods: Informer<ContinuousClock>
        let namespaces: Informer<ContinuousClock>
        var all: [Informer<ContinuousClock>] { [policies, pods, namespaces] }

        init(client: KubeRESTClient) {
            policies = Informer(source: RESTListWatch(client: client, path: "/apis/networking.k8s.io/v1/networkpolicies"))
            pods = Informer(source: RESTListWatch(client: client, path: "/api/v1/pods"))
            namespaces = Informer(source: RESTListWatch(client: client, path: "/api/v1/namespaces"))
        }
    }

    /// Compiles and applies on every wake-up until cancelled; answers how many pod chains the
    /// table last applied holds (nil when nothing was applied).
    private func applyChanges(_ changes: AsyncStream<Void>, retry: AsyncStream<Void>.Continuation, sources: Sources,
                              compiler: PolicyCompiler, table: NetworkPolicyTable) async -> Int? {
        // Nothing is applied before every informer has listed: a partial view would drop
        // traffic that a not-yet-seen policy or pod allows.
        for informer in sources.all { guard await informer.waitForSync() else { return nil } }
        var applied: (script: String, chains: Int)?
        var failures = 0
        retry.yield()
        for await _ in changes {
            try? await Task.sleep(for: Self.batchDelay)
            if Task.isCancelled { break }
            let ruleset = compiler.compile(policies: sources.policies.cache.list().compactMap(PolicyDefinition.init),
                                           pods: sources.pods.cache.list().compactMap(PolicyPod.init),
                                           namespaces: sources.namespaces.cache.list().compactMap(PolicyNamespace.init))
            let script = PolicyRulesetRenderer.script(ruleset)
            guard script != applied?.script else { continue }
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
        return applied?.chains
    }
}
