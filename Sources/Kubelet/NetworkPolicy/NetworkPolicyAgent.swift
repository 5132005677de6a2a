import Foundation
import KubeClient
import KubeModel
import Logging

/// Enforces NetworkPolicy for one node's pods, as a policy-enforcing CNI agent does: informers
/// on NetworkPolicies, Pods and Namespaces (cluster-wide: peers live anywhere) wake one loop,
/// which compiles everything into the node's nft table and applies it as a single transaction.
/// Changes that arrive together are applied together; an unchanged result is not reapplied.
/// The first apply replaces whatever table an earlier run left. The table outlives the kubelet
/// (so do the pods it guards); `caravel killall` removes it.
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
        let compiler = PolicyCompiler(table: NetworkPolicyTable.name(nodeName: nodeName), nodeName: nodeName, podCIDR: podCIDR)
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let wake = InformerHandler.any { _ in changed.yield() }
        let informers = [
            Informer(source: RESTListWatch(client: client, path: "/apis/networking.k8s.io/v1/networkpolicies")),
            Informer(source: RESTListWatch(client: client, path: "/api/v1/pods")),
            Informer(source: RESTListWatch(client: client, path: "/api/v1/namespaces")),
        ]
        for informer in informers { informer.addHandler(wake) }
        await withTaskGroup(of: Void.self) { group in
            for informer in informers { group.addTask { await informer.run() } }
            group.addTask {
                // Nothing is applied before every informer has listed: a partial view would
                // drop traffic that a not-yet-seen policy or pod allows.
                for informer in informers { guard await informer.waitForSync() else { return } }
                var applied: String?
                var failures = 0
                changed.yield()
                for await _ in changes {
                    try? await Task.sleep(for: Self.batchDelay)
                    if Task.isCancelled { break }
                    let ruleset = compiler.compile(
                        policies: informers[0].cache.list().compactMap(PolicyDefinition.init),
                        pods: informers[1].cache.list().compactMap(PolicyPod.init),
                        namespaces: informers[2].cache.list().compactMap(PolicyNamespace.init))
                    let script = PolicyRulesetRenderer.script(ruleset)
                    guard script != applied else { continue }
                    do {
                        try await table.apply(script)
                        applied = script
                        failures = 0
                        logger.debug("network policy rules applied", metadata: ["table": "\(ruleset.table)", "chains": "\(ruleset.chains.count)"])
                    } catch {
                        failures += 1
                        logger.error("applying network policy rules failed", metadata: ["error": "\(error)"])
                        // Try again later even if nothing changes (a transient nft failure);
                        // changes arriving meanwhile are folded into that attempt.
                        try? await Task.sleep(for: .seconds(min(30, 1 << min(failures, 5))))
                        changed.yield()
                    }
                }
            }
            await withTaskCancellationHandler {
                _ = await group.next()
            } onCancel: {
                changed.finish()
            }
            group.cancelAll()
        }
    }
}
