import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle

/// The node agent of one node: registers the Node and renews its Lease, runs the pods bound
/// to it through a `ContainerRuntime`, reports their status, and serves their logs and exec
/// sessions. `caravel server` runs one in-process; `caravel kubelet` runs one (or, with the
/// fake runtime, many) against any API server.
public struct Kubelet: Service {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// Pods' volumes, runtime records and logs (`KubeletPaths`).
        public var rootDirectory: String
        /// Port of the kubelet's HTTPS server (logs, exec); 0 picks a free one. Nil serves none.
        public var serverPort: Int?
        public var bindAddress: String
        /// How often a pod worker looks at its containers when nothing else woke it.
        public var syncInterval: Duration
        public var labels: [String: String]
        /// Set when this node is one of many fake nodes in one process (`FleetSharing`).
        public var fleet: FleetSharing?

        public init(nodeName: String, rootDirectory: String, serverPort: Int? = 10250, bindAddress: String = "0.0.0.0",
                    syncInterval: Duration = .seconds(1), labels: [String: String] = [:], fleet: FleetSharing? = nil) {
            self.fleet = fleet
            self.nodeName = nodeName
            self.rootDirectory = rootDirectory
            self.serverPort = serverPort
            self.bindAddress = bindAddress
            self.syncInterval = syncInterval
            self.labels = labels
        }
    }

    let config: Configuration
    let client: KubeRESTClient
    let runtime: any ContainerRuntime
    /// The process runtime's pod network, configured once the node has a podCIDR.
    let network: PodNetwork?
    /// The cluster CA: who may call the kubelet's server (the API server's client certificate).
    let clientCA: String?
    /// The node DNS server and pods' DNS files (process runtime only).
    let dns: NodeDNS?
    let dnsOptions: NodeDNSOptions
    /// The node's service proxy (process runtime only).
    let proxy: ServiceProxy?
    let logger: Logger

    public init(config: Configuration, client: KubeRESTClient, runtime: any ContainerRuntime, network: PodNetwork?,
                clientCA: String?, dns: NodeDNS? = nil, dnsOptions: NodeDNSOptions = .init(), proxy: ServiceProxy? = nil,
                logger: Logger) {
        self.config = config
        self.dns = dns
        self.dnsOptions = dnsOptions
        self.client = client
        self.runtime = runtime
        self.network = network
        self.clientCA = clientCA
        self.proxy = proxy
        self.logger = logger
    }

    public func run() async throws {
        do {
            try FileManager.default.createDirectory(atPath: config.rootDirectory, withIntermediateDirectories: true)
        } catch {
            // The runtime came in open: a kubelet that cannot start still closes it.
            await runtime.shutdown()
            throw error
        }
        let paths = KubeletPaths(root: config.rootDirectory)
        let isFake = runtime.name == "fake"
        let hostIP = await network?.hostIP() ?? "127.0.0.1"
        let capacity = NodeCapacity.detect(rootDirectory: config.rootDirectory)
        let objects = RESTObjectSource(client: client)
        let records = await runtime.listContainers()
        var context = KubeletContext(
            nodeName: config.nodeName, client: client, runtime: runtime, paths: paths,
            volumes: VolumeManager(paths: paths, source: objects, logger: logger), objects: objects,
            events: EventRecorder(client: client, component: "kubelet", host: config.nodeName, correlator: EventCorrelator()), hostIP: hostIP,
            nodeAllocatable: Self.stringMap(capacity.allocatableJSON), simulated: isFake,
            syncInterval: config.syncInterval, logger: logger)
        // A fleet of fake nodes records no Normal pod events (Pulled, Created, Started,
        // Killing), as kwok's simulated nodes: they would be most of a large rollout's writes.
        // Warnings are still recorded.
        context.quietNormalEvents = config.fleet != nil
        if let dns {
            context.podDNS = PodDNSFiles(clusterDomain: dnsOptions.clusterDomain, resolvConfPath: dnsOptions.resolvConf, nameserver: dns.address)
        }
        let ctx = context
        let workers = PodWorkers(ctx: ctx, records: records)
        let metrics = ResourceMetricsCollector(pods: workers, usage: runtime as? any ContainerUsageSource)
        let server = config.serverPort.map {
            KubeletServer(port: $0, bindAddress: config.bindAddress, clientCA: clientCA ?? "", lookup: workers, runtime: runtime,
                          logger: logger, metrics: metrics)
        }
        // The nodes of a fleet share one heartbeat thread; a node of its own has its own.
        let heartbeats = config.fleet?.heartbeats ?? HeartbeatExecutor()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let server {
                    group.addTask {
                        do { try await server.run() } catch { logger.error("kubelet server failed", metadata: ["error": .string("\(error)")]) }
                    }
                }
                group.addTask {
                    await runNode(ctx: ctx, workers: workers, server: server, hostIP: hostIP, capacity: capacity, isFake: isFake,
                                  heartbeats: heartbeats)
                }
                await group.next()
                group.cancelAll()
            }
        }
        if config.fleet?.heartbeats == nil { heartbeats.shutdown() }
        await workers.shutdown()
        await runtime.shutdown()
    }

    /// Registers the node, then runs the heartbeat, the status loop and the pod informer
    /// until cancelled.
    private func runNode(ctx: KubeletContext, workers: PodWorkers, server: KubeletServer?, hostIP: String,
                         capacity: NodeCapacity, isFake: Bool, heartbeats: HeartbeatExecutor) async {
        var port = 0
        if let server {
            while !Task.isCancelled {
                if let p = await server.boundPort() { port = p; break }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        var labels = config.labels
        if isFake { labels["type"] = "fake" }
        let noPressure: @Sendable () -> NodePressure = { NodePressure() }
        let pressure: (@Sendable () -> NodePressure)? = isFake ? noPressure : nil
        let heartbeatClient = config.fleet?.heartbeatClient ?? client
        let reporter = NodeStatusReporter(client: heartbeatClient, nodeName: config.nodeName, runtimeName: runtime.name, kubeletPort: port,
                                          hostIP: hostIP, capacity: capacity, labels: labels,
                                          annotations: [LocalPathStorage.nodeDirectoryAnnotation: ctx.paths.localVolumesDirectory],
                                          logger: logger, reportInterval: config.fleet?.statusReportInterval,
                                          rootDirectory: config.rootDirectory,
                                          pressure: pressure)
        if let imageService = runtime as? any ImageService { await reporter.reportImages { await imageService.nodeImages() } }
        // Ready comes from checks, as kubelet's: runtime, pod network, disk, pod lifecycle relists.
        // The nodes of a fleet sleep on its shared clock, which wakes their loops together.
        let clock = config.fleet?.clock ?? .continuous
        let lifecycle = PodLifecycleMonitor(clock: clock)
        // A simulated node has no disk of its own to check (thousands of fsyncs would only load the host).
        let health = NodeHealth(runtime: runtime, network: network, rootDirectory: isFake ? nil : config.rootDirectory,
                                lifecycleProblem: { lifecycle.problem() })
        let fleet = config.fleet
        var node: JSONValue?
        var delay = Duration.milliseconds(200)
        while node == nil && !Task.isCancelled {
            do {
                let readiness = await health.evaluate()
                if let gate = fleet?.registrations {
                    node = try await gate.run { try await reporter.register(readiness: readiness) }
                } else {
                    node = try await reporter.register(readiness: readiness)
                }
            } catch {
                logger.warning("node registration failed, retrying", metadata: ["node": .string(config.nodeName), "error": .string("\(error)")])
                // Jittered back-off: nodes refused together do not come back together.
                try? await Task.sleep(for: Jitter.apply(delay, factor: 1, random: Double.random(in: 0..<1)))
                delay = min(delay * 2, .seconds(10))
            }
        }
        guard let node, let nodeUID = node.uid else { return }
        if let network {
            // Pods started before the node has a CIDR share the host network; wait a moment for it.
            if let cidr = await reporter.waitForPodCIDR(timeout: .seconds(5)) {
                await network.configure(podCIDR: cidr)
            } else {
                logger.warning("node has no podCIDR yet (is the controller manager running?): pods share the host network until it does")
            }
        }
        // A fake pod's declared usage follows its annotations from the moment they change.
        let meter = (runtime as? FakeRuntime)?.usageMeter
        let podHandler = InformerHandler(
            onAdd: { meter?.observe(podUID: $0.uid ?? "", annotations: $0.annotations); await workers.apply($0) },
            onUpdate: { _, new in meter?.observe(podUID: new.uid ?? "", annotations: new.annotations); await workers.apply(new) },
            onDelete: { meter?.forget(podUID: $0.uid ?? ""); await workers.remove($0) })
        // One of many fake nodes: the pods come from the fleet's shared watch, and the first
        // heartbeats fall anywhere in their interval so that the fleet's writes spread evenly.
        let informer: Informer<ContinuousClock>? = fleet == nil
            ? Informer(source: RESTListWatch(client: client, path: "/api/v1/pods",
                                             baseQuery: ["fieldSelector": "spec.nodeName=\(config.nodeName)"]))
            : nil
        informer?.addHandler(podHandler)
        let lease = LeaseHeartbeat(client: heartbeatClient, nodeName: config.nodeName, nodeUID: nodeUID, clock: clock,
                                   gate: fleet?.leases, logger: logger)
        let leaseDelay = fleet == nil ? Duration.zero : Jitter.offset(within: lease.interval, random: Double.random(in: 0..<1))
        let statusDelay = fleet == nil ? Duration.zero : Jitter.offset(within: reporter.statusInterval, random: Double.random(in: 0..<1))
        defer { fleet?.pods.unsubscribe(node: config.nodeName) }
        await withTaskGroup(of: Void.self) { group in
            // The heartbeats do not queue behind the pods' work (`HeartbeatExecutor`).
            group.addTask(executorPreference: heartbeats) { await lease.run(initialDelay: leaseDelay) }
            group.addTask(executorPreference: heartbeats) {
                await reporter.run(initialDelay: statusDelay, gate: fleet?.statusPosts, clock: clock,
                                   readiness: { await health.evaluate() })
            }
            group.addTask {
                // A simulated node's relist only shows the loop is alive: thousands of them need
                // not do it every second.
                await lifecycle.run(period: isFake ? .seconds(10) : .seconds(1)) {
                    _ = await runtime.listContainers()
                    _ = await workers.count
                }
            }
            if let informer {
                group.addTask { await informer.run() }
                group.addTask {
                    if await informer.waitForSync() { await workers.removeOrphans() }
                }
            } else if let fleet {
                group.addTask {
                    if await fleet.pods.subscribe(node: config.nodeName, podHandler) { await workers.removeOrphans() }
                }
            }
            if let proxy { group.addTask { await proxy.run() } }
            if let images = runtime as? any ImageService {
                group.addTask { await ImageGarbageCollector.runPeriodically { await images.collectUnusedImages() } }
            }
            if !isFake {
                let janitor = LocalVolumeJanitor(directory: ctx.paths.localVolumesDirectory, objects: ctx.objects,
                                                 interval: .seconds(10), logger: logger)
                group.addTask { await janitor.run() }
            }
            if let dns {
                let network = self.network
                group.addTask {
                    await dns.run(podGateway: { await Self.podGateway(network: network, reporter: reporter) })
                }
            }
            if let network {
                group.addTask { await runNetworkPolicy(ctx: ctx, network: network, reporter: reporter, node: node) }
                group.addTask {
                    guard await !network.isolated else { return }
                    if let cidr = await reporter.waitForPodCIDR(timeout: .seconds(3600)) { await network.configure(podCIDR: cidr) }
                }
            }
            await group.waitForAll()
        }
    }

    /// NetworkPolicy enforcement, once the node's pods have their own network.
    private func runNetworkPolicy(ctx: KubeletContext, network: PodNetwork, reporter: NodeStatusReporter, node: JSONValue) async {
        let unsupported: @Sendable (String) async -> Void = { reason in
            await ctx.events.record(node, apiVersion: "v1", kind: "Node", type: "Warning", reason: "NetworkPolicyNotEnforced",
                                    message: "NetworkPolicy is not enforced on this node: \(reason)")
        }
        guard let text = await reporter.waitForPodCIDR(timeout: .seconds(3600)), let cidr = IPv4CIDR(text) else { return }
        await network.configure(podCIDR: text)  // idempotent; the CIDR may have come only now
        guard await network.isolated else {
            logger.warning("NetworkPolicy is not enforced on this node: pods share the host network")
            await unsupported("pods share the host network")
            return
        }
        await NetworkPolicyAgent(client: client, nodeName: config.nodeName, podCIDR: cidr, paths: ctx.paths, logger: logger,
                                 reportUnsupported: unsupported).run()
    }

    /// The pod bridge's gateway address once the node has a podCIDR and pods get their own
    /// network; nil when they never will (not root, no `ip`).
    static func podGateway(network: PodNetwork?, reporter: NodeStatusReporter) async -> String? {
        guard let network, geteuid() == 0, let cidr = await reporter.waitForPodCIDR(timeout: .seconds(3600)),
              let parsed = IPv4CIDR(cidr) else { return nil }
        // configure(podCIDR:) runs in another task: give it a moment.
        for _ in 0..<50 {
            if await network.isolated { return IPv4CIDR.format(parsed.gateway) }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return nil
    }

    static func stringMap(_ v: JSONValue) -> [String: String] {
        (v.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}
