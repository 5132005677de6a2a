import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle

/// Runs the built-in controllers against one API server: informers on pods, ReplicaSets,
/// Deployments and nodes, then the ReplicaSet and Deployment controllers, the horizontal pod
/// autoscaler and the garbage collector with
/// `workers` workers each, and the scheduler with one, once every cache has synced. Everything goes through `client`, over HTTP, as it would from
/// another process. Stops on cancellation or graceful shutdown.
public struct ControllerManager: Service {
    /// Tuning.
    public struct Options: Sendable {
        /// Workers per controller (Kubernetes defaults to 5 for both).
        public var workers: Int
        /// How often informers re-deliver their whole cache; `nil` disables it.
        public var resyncPeriod: Duration?
        /// How long a node may go without renewing its Lease before it is Unknown and tainted.
        public var nodeMonitorGracePeriod: Duration = .seconds(40)
        /// Lease election so only one manager acts at a time; `nil` runs the controllers at once.
        public var leaderElection: LeaderElectionConfiguration?
        /// The cluster CA for the CSR approver and signer; nil runs neither.
        public var csrSigning: CSRSigning?
        /// The horizontal pod autoscaler's sync period, tolerance and windows.
        public var autoscaling = AutoscalerOptions()

        public init(workers: Int = 5, resyncPeriod: Duration? = .seconds(300),
                    leaderElection: LeaderElectionConfiguration? = LeaderElectionConfiguration()) {
            self.workers = workers
            self.resyncPeriod = resyncPeriod
            self.leaderElection = leaderElection
        }
    }

    let client: KubeRESTClient
    let options: Options
    let logger: Logger

    /// A manager using `client` (which the caller owns and shuts down).
    public init(client: KubeRESTClient, options: Options = Options(), logger: Logger = Logger(label: "caravel.controllers")) {
        self.client = client
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        guard let election = options.leaderElection else { return try await runControllers() }
        // Renewals get a client of their own, as in Kubernetes: requests queued behind the
        // informers' watches on a full connection pool must not cost the lease.
        let electionClient = try KubeRESTClient(connection: client.connection,
                                                options: .init(maxConnectionsPerHost: 2, userAgent: client.options.userAgent + "/leader-election"))
        let elector = LeaderElector(lock: RESTLeaseLock(client: electionClient, namespace: election.namespace, name: election.name),
                                    configuration: election, clock: ContinuousClock())
        let logger = self.logger
        let identity: Logger.MetadataValue = .string(election.identity)
        await cancelWhenGracefulShutdown {
            // A lost lease ends one term; the manager stands again, with fresh caches.
            while !Task.isCancelled {
                let led = await elector.run {
                    logger.info("leading", metadata: ["identity": identity])
                    do { try await runControllers() } catch { logger.error("controllers failed", metadata: ["error": "\(error)"]) }
                }
                if led { logger.info("stopped leading", metadata: ["identity": identity]) }
                // Do not hammer the server if a term ends at once (e.g. the controllers failed).
                try? await Task.sleep(for: election.retryPeriod)
            }
        }
        try? await electionClient.shutdown()
    }

    /// The controllers themselves, with no election.
    func runControllers() async throws {
        let logger = self.logger
        let informerOptions = Informer<ContinuousClock>.Options(
            resyncPeriod: options.resyncPeriod,
            onError: { logger.info("informer retrying", metadata: ["error": .string($0)]) })
        func informer(_ resource: ResourcePath) -> Informer<ContinuousClock> {
            Informer(source: RESTListWatch(client: client, resource: resource), options: informerOptions)
        }
        let pods = informer(ReplicaSetController.podResource)
        let replicaSets = informer(ReplicaSetController.resource)
        let deployments = informer(DeploymentController.resource)
        let nodes = informer(Scheduler.nodeResource)
        let leases = informer(NodeLifecycleController.leaseResource)
        let namespaces = informer(NamespaceController.resource)
        let endpointControllers = ServiceEndpoints.controllers(client: client, pods: pods, informer: informer,
                                                               workers: options.workers, logger: logger)
        let csrControllers = CSRFacts.controllers(client: client, informer: informer, signing: options.csrSigning, logger: logger)
        let quotaControllers = ResourceQuotaController.controllers(client: client, pods: pods, informer: informer, workers: options.workers, logger: logger)
        let saControllers = ServiceAccountController.controllers(client: client, namespaces: namespaces, informer: informer, logger: logger)
        let hpaControllers = HorizontalPodAutoscalerController.controllers(client: client, pods: pods, informer: informer,
                                                                           options: options.autoscaling, workers: options.workers, logger: logger)
        let disruptionControllers = DisruptionController.controllers(client: client, pods: pods, replicaSets: replicaSets.cache,
                                                                     deployments: deployments.cache, informer: informer,
                                                                     workers: options.workers, logger: logger)
        let clusterRoles = informer(ClusterRoleAggregationController.resource)
        let informers = [pods, replicaSets, deployments, nodes, leases, namespaces, clusterRoles] + endpointControllers.informers + csrControllers.informers
            + quotaControllers.informers + saControllers.informers + hpaControllers.informers + disruptionControllers.informers

        let rsQueue = WorkQueue<String, ContinuousClock>()
        let deploymentQueue = WorkQueue<String, ContinuousClock>()
        let expectations = Expectations()
        replicaSets.addHandler(ControllerEvents.ownHandler { rsQueue.add($0) })
        pods.addHandler(ControllerEvents.dependentHandler(ownerKind: "ReplicaSet", owners: replicaSets.cache,
                                                          expectations: expectations) { rsQueue.add($0) })
        deployments.addHandler(ControllerEvents.ownHandler { deploymentQueue.add($0) })
        replicaSets.addHandler(ControllerEvents.dependentHandler(ownerKind: "Deployment", owners: deployments.cache,
                                                                 expectations: nil) { deploymentQueue.add($0) })
        let gcQueue = WorkQueue<String, ContinuousClock>()
        let ownerGraph = OwnerGraph(Array(zip(GarbageCollector.resources, [pods.cache, replicaSets.cache, deployments.cache])))
        for (resource, informer) in zip(GarbageCollector.resources, [pods, replicaSets, deployments]) {
            informer.addHandler(ownerGraph.handler(for: resource) { gcQueue.add($0) })
        }

        let schedulerQueue = WorkQueue<String, ContinuousClock>()
        pods.addHandler(Scheduler.podHandler(pods: pods.cache) { schedulerQueue.add($0) })
        nodes.addHandler(Scheduler.nodeHandler(pods: pods.cache) { schedulerQueue.add($0) })

        let nodeLifecycleQueue = WorkQueue<String, ContinuousClock>()
        let lifecycle = NodeLifecycleController.handlers(nodes: nodes.cache) { nodeLifecycleQueue.add($0) }
        nodes.addHandler(lifecycle.node)
        leases.addHandler(lifecycle.lease)
        pods.addHandler(lifecycle.pod)
        let nodeIPAMQueue = WorkQueue<String, ContinuousClock>()
        nodes.addHandler(NodeIPAMController.handler(nodes: nodes.cache) { nodeIPAMQueue.add($0) })
        let namespaceQueue = WorkQueue<String, ContinuousClock>()
        namespaces.addHandler(ControllerEvents.ownHandler { namespaceQueue.add($0) })
        let aggregationQueue = WorkQueue<String, ContinuousClock>()
        clusterRoles.addHandler(ClusterRoleAggregationController.handler(clusterRoles: clusterRoles.cache) { aggregationQueue.add($0) })

        let loops = endpointControllers.loops + csrControllers.loops + quotaControllers.loops + saControllers.loops + hpaControllers.loops
            + disruptionControllers.loops + [
            ControllerLoop(name: "replicaset", queue: rsQueue,
                           reconciler: ReplicaSetController(client: client, replicaSets: replicaSets.cache,
                                                            pods: pods.cache, expectations: expectations),
                           workers: options.workers, logger: logger),
            ControllerLoop(name: "deployment", queue: deploymentQueue,
                           reconciler: DeploymentController(client: client, deployments: deployments.cache,
                                                            replicaSets: replicaSets.cache),
                           workers: options.workers, logger: logger),
            ControllerLoop(name: "garbagecollector", queue: gcQueue,
                           reconciler: GarbageCollector(client: client, graph: ownerGraph) { gcQueue.add($0) },
                           workers: options.workers, logger: logger),
            // One worker: each placement must see the previous one.
            ControllerLoop(name: "scheduler", queue: schedulerQueue,
                           reconciler: Scheduler(client: client, pods: pods.cache, nodes: nodes.cache),
                           workers: 1, logger: logger),
            ControllerLoop(name: "nodelifecycle", queue: nodeLifecycleQueue,
                           reconciler: NodeLifecycleController(client: client, nodes: nodes.cache, leases: leases.cache, pods: pods.cache,
                                                               gracePeriod: options.nodeMonitorGracePeriod),
                           workers: options.workers, logger: logger),
            // One worker: each allocation must see the previous one.
            ControllerLoop(name: "nodeipam", queue: nodeIPAMQueue,
                           reconciler: NodeIPAMController(client: client, nodes: nodes.cache), workers: 1, logger: logger),
            ControllerLoop(name: "namespace", queue: namespaceQueue,
                           reconciler: NamespaceController(client: client, namespaces: namespaces.cache),
                           workers: options.workers, logger: logger),
            ControllerLoop(name: "clusterrole-aggregation", queue: aggregationQueue,
                           reconciler: ClusterRoleAggregationController(client: client, clusterRoles: clusterRoles.cache),
                           workers: 1, logger: logger),
        ]

        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for informer in informers {
                    group.addTask { await informer.run() }
                }
                group.addTask {
                    // Acting on a partial cache would create pods that already exist.
                    for informer in informers {
                        guard await informer.waitForSync() else { return }
                    }
                    logger.info("controllers started", metadata: ["workers": .stringConvertible(options.workers)])
                    await withTaskGroup(of: Void.self) { loopsGroup in
                        for loop in loops { loopsGroup.addTask { await loop.run() } }
                    }
                }
                await group.waitForAll()
            }
        }
        // Handlers may have queued keys after the loops stopped; release any waiter.
        rsQueue.shutdown()
        deploymentQueue.shutdown()
        gcQueue.shutdown()
        schedulerQueue.shutdown()
        nodeLifecycleQueue.shutdown()
        nodeIPAMQueue.shutdown()
        namespaceQueue.shutdown()
        aggregationQueue.shutdown()
        endpointControllers.queues.forEach { $0.shutdown() }
        csrControllers.queues.forEach { $0.shutdown() }
        quotaControllers.queues.forEach { $0.shutdown() }
        saControllers.queues.forEach { $0.shutdown() }
        hpaControllers.queues.forEach { $0.shutdown() }
        disruptionControllers.queues.forEach { $0.shutdown() }
    }
}

/// The controller manager as a process runs it: a client from a kubeconfig, optionally
/// waiting for the API server's `/readyz` first (when it starts in the same process).
public struct ControllerManagerService: Service {
    let kubeconfigPath: String
    let waitForReady: Bool
    let options: ControllerManager.Options
    let logger: Logger

    /// A service reading `kubeconfigPath` when it starts.
    public init(kubeconfigPath: String, waitForReady: Bool = false, options: ControllerManager.Options = .init(),
                logger: Logger = Logger(label: "caravel.controllers")) {
        self.kubeconfigPath = kubeconfigPath
        self.waitForReady = waitForReady
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        // One long-lived watch per informer plus the workers' requests: HTTP/1.1 needs a
        // connection for each.
        let client = try KubeRESTClient(kubeconfigPath: kubeconfigPath,
                                        options: .init(maxConnectionsPerHost: 128, userAgent: "caravel-controller-manager"))
        do {
            if waitForReady {
                guard await cancelWhenGracefulShutdown({ await client.waitUntilReady() }) else {
                    try await client.shutdown()
                    return
                }
            }
            try await ControllerManager(client: client, options: options, logger: logger).run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
