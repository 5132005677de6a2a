import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle

/// Runs the built-in controllers (`BuiltinControllers`) against one API server: one shared
/// informer per watched resource, and per controller a work queue and a loop of workers,
/// started once every cache has synced. Everything goes through `client`, over HTTP, as it
/// would from another process. With leader election, only while holding the lease; each term
/// starts afresh. Stops on cancellation or graceful shutdown, shutting every queue down.
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
        /// The range node IPAM cuts nodes' /24 podCIDRs from (`--cluster-cidr`).
        public var clusterCIDR = NodeIPAMController.defaultClusterCIDR

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

    /// The controllers themselves, with no election: fresh shared informers, one queue and
    /// one loop per controller; loops start once every cache has synced.
    func runControllers() async throws {
        let logger = self.logger
        let client = self.client
        // No controller reads managed fields: the caches drop them, as kube-controller-manager's do.
        let informerOptions = Informer<ContinuousClock>.Options(
            resyncPeriod: options.resyncPeriod,
            onError: { logger.info("informer retrying", metadata: ["error": .string($0)]) },
            transform: Informer<ContinuousClock>.droppingManagedFields)
        let informers = InformerFactory { resource in
            Informer(source: RESTListWatch(client: client, resource: resource), options: informerOptions)
        }
        let loops = BuiltinControllers.all(client: client, caPEM: RootCAPublisher.caPEM(client.connection),
                                           options: options, logger: logger).map { controller in
            let queue = WorkQueue<String, ContinuousClock>(priority: controller.queuePriority?(informers))
            let reconciler = controller.wire(ControllerWiring(informers: informers, enqueue: { queue.add($0) }))
            return ControllerLoop(name: controller.name, queue: queue, reconciler: reconciler, workers: controller.workers, logger: logger)
        }
        let running = informers.all

        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for informer in running {
                    group.addTask { await informer.run() }
                }
                group.addTask {
                    // Acting on a partial cache would create pods that already exist.
                    for informer in running {
                        guard await informer.waitForSync() else { return }
                    }
                    logger.info("controllers started", metadata: ["workers": .stringConvertible(options.workers),
                                                                  "controllers": .stringConvertible(loops.count)])
                    await withTaskGroup(of: Void.self) { loopsGroup in
                        for loop in loops { loopsGroup.addTask { await loop.run() } }
                    }
                }
                await group.waitForAll()
            }
        }
        // Handlers may have queued keys after the loops stopped; release any waiter.
        for loop in loops { loop.queue.shutdown() }
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
