import Foundation
import KubeClient
import KubeModel
import Logging

/// kube-proxy's nftables mode for one node, inside the kubelet: watches Services and
/// EndpointSlices and keeps the node's `caravel-proxy-…` table in step, one atomic `nft -f`
/// per burst of changes. The table is rebuilt from scratch at start, and the service CIDR is
/// captured (rejected) before any Service rule exists. Without `nft` or root it logs once and
/// does nothing. The table stays when the kubelet stops (pods outlive it); `caravel killall`
/// removes it.
public actor ServiceProxy {
    public struct Configuration: Sendable {
        public var nodeName: String
        public var rootDirectory: String
        /// The API server's `--service-cluster-ip-range`; nil derives it from the `kubernetes`
        /// Service (`ServiceCIDRDiscovery`).
        public var serviceCIDR: String?
        /// The node's pod bridge.
        public var bridge: String
        /// How long a burst of changes is gathered before one update.
        public var coalesce: Duration = .milliseconds(100)
        /// How often the kernel's table is compared with what was applied (kube-proxy's
        /// periodic sync): a table flushed or deleted by hand is rebuilt.
        public var verifyEvery: Duration = .seconds(30)

        public init(nodeName: String, rootDirectory: String, serviceCIDR: String?, bridge: String) {
            self.nodeName = nodeName
            self.rootDirectory = rootDirectory
            self.serviceCIDR = serviceCIDR
            self.bridge = bridge
        }
    }

    let config: Configuration
    let client: KubeRESTClient
    let nodeIPs: @Sendable () async -> [String]
    let logger: Logger
    /// What the kernel holds; nil forces a rebuild from scratch.
    private var applied: NftRuleset?
    /// An `nft -f` of this proxy is running.
    private var applying = false
    /// The range captured, once known.
    public private(set) var serviceCIDR: String?

    public init(config: Configuration, client: KubeRESTClient, nodeIPs: @escaping @Sendable () async -> [String], logger: Logger) {
        self.config = config
        self.client = client
        self.nodeIPs = nodeIPs
        self.logger = logger
    }

    public var table: String { ProxyHost.tableName(rootDirectory: config.rootDirectory) }

    /// Runs until cancelled.
    public func run() async {
        guard getuid() == 0, let nft = PodNetworkCommand.find("nft") else {
            logger.warning("service proxy is off: it needs root and the nft command (nftables)")
            return
        }
        var range = config.serviceCIDR
        if range == nil { range = await ServiceCIDRDiscovery.discover(client: client, logger: logger) }
        guard let serviceCIDR = range else { return }
        guard IPv4CIDR(serviceCIDR) != nil else {
            logger.error("service proxy is off: invalid service CIDR", metadata: ["serviceCIDR": "\(serviceCIDR)"])
            return
        }
        let bridged = await ProxyHost.enableBridgeNetfilter()
        if !bridged {
            logger.warning("br_netfilter unavailable: pod traffic to Services is masqueraded so replies from the same bridge are un-NATed")
        }
        self.serviceCIDR = serviceCIDR
        let base = ProxyRules(table: table, serviceCIDR: serviceCIDR, bridge: config.bridge, nodeName: config.nodeName,
                               nodeIPs: [], masqueradePodTraffic: !bridged)
        // Capture before any Service rule: from here on nothing for the range leaves the node.
        await sync(base.ruleset(for: []), nft: nft)

        let (changes, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let wake = InformerHandler.any { _ in signal.yield() }
        let services = Informer(source: RESTListWatch(client: client, path: "/api/v1/services"))
        let slices = Informer(source: RESTListWatch(client: client, path: "/apis/discovery.k8s.io/v1/endpointslices"))
        services.addHandler(wake)
        slices.addHandler(wake)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await services.run() }
            group.addTask { await slices.run() }
            group.addTask { [verifyEvery = config.verifyEvery] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: verifyEvery)
                    if Task.isCancelled { break }
                    if await self.forgetIfDrifted(nft: nft) { signal.yield() }
                }
            }
            group.addTask { [coalesce = config.coalesce] in
                guard await services.waitForSync(), await slices.waitForSync() else { return }
                var rules = base
                signal.yield()
                for await _ in changes {
                    try? await Task.sleep(for: coalesce)
                    if Task.isCancelled { break }
                    rules.nodeIPs = await self.nodeIPs()
                    let ports = ProxiedServicePort.from(services: services.cache.list(), slices: slices.cache.list())
                    if await !self.sync(rules.ruleset(for: ports), nft: nft) {
                        // Retry from scratch a moment later (a table deleted by hand, say).
                        try? await Task.sleep(for: .seconds(1))
                        signal.yield()
                    }
                }
            }
            // Cancelled with the kubelet, the informers and the update loop end together.
            _ = await group.next()
            signal.finish()
            group.cancelAll()
        }
    }

    /// True (and what was applied forgotten, so the next sync rebuilds from scratch) when the
    /// kernel's table is gone or lacks a chain that was applied.
    func forgetIfDrifted(nft: String) async -> Bool {
        guard let expected = applied, !applying else { return false }
        guard let listing = try? await PodNetworkCommand.run(nft, ["list", "table", "ip", table]) else { return false }
        // An update that ran meanwhile changed the table on purpose.
        guard !applying, applied == expected else { return false }
        guard listing.status != 0 || expected.isMissingChains(in: listing.stdout) else { return false }
        logger.warning("service proxy table changed outside the kubelet: rebuilding it", metadata: ["table": "\(table)"])
        self.applied = nil
        return true
    }

    /// Applies `ruleset` unless the kernel holds it already; true when the kernel holds it.
    @discardableResult
    func sync(_ ruleset: NftRuleset, nft: String) async -> Bool {
        if ruleset == applied { return true }
        let script = ruleset.script(replacing: applied)
        let file = config.rootDirectory + "/service-proxy.nft"
        applying = true
        defer { applying = false }
        if let problem = await ProxyHost.apply(script: script, file: file, nft: nft) {
            logger.error("service proxy update failed", metadata: ["table": "\(table)", "error": "\(problem)"])
            applied = nil
            return false
        }
        if applied == nil {
            logger.info("service proxy table built", metadata: ["table": "\(table)", "serviceCIDR": "\(serviceCIDR ?? "")"])
        }
        applied = ruleset
        return true
    }
}
