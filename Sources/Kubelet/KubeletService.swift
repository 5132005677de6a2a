import Foundation
import KubeClient
import Logging
import ServiceLifecycle

/// The kubelet as a process runs it: a client from a kubeconfig, the chosen runtime, and one
/// `Kubelet` per node (several only with the fake runtime, for scale tests like kwok).
public struct KubeletService: Service {
    public struct Options: Sendable {
        /// `process`, `oci` or `fake`.
        public var runtime: String = "process"
        /// With `oci`: the low-level runtime, `runc` or `crun`.
        public var ociRuntime: String = "runc"
        /// Registries reached over plain HTTP (`HOST:PORT`).
        public var insecureRegistries: [String] = []
        /// k3s-format `registries.yaml` (mirrors, insecure endpoints, credentials); nil reads
        /// `ROOT/registries.yaml`.
        public var registriesConfig: String?
        /// Image garbage collection thresholds (percent of the images' file system).
        public var imageGCHighThreshold: Int = 85
        public var imageGCLowThreshold: Int = 80
        /// Fake nodes to run (`--nodes`); named `<nodeName>-1` … when more than one.
        public var nodes: Int = 1
        public var serverPort: Int = 10250
        public var bindAddress: String = "0.0.0.0"
        /// `caravel-shim`; found next to the running executable when nil.
        public var shimPath: String?
        /// Wait for the API server's /readyz first (when it starts in the same process).
        public var waitForReady: Bool = false
        /// The node DNS server and pods' resolv.conf (process runtime only).
        public var dns = NodeDNSOptions()
        /// The service CIDR the proxy captures (`--service-cluster-ip-range`); nil derives it
        /// from the `kubernetes` Service. The proxy runs only with the process runtime.
        public var serviceCIDR: String?
        /// Run the service proxy (process runtime only).
        public var serviceProxy: Bool = true

        public init() {}
    }

    let kubeconfigPath: String
    let nodeName: String
    let rootDirectory: String
    let options: Options
    let logger: Logger

    public init(kubeconfigPath: String, nodeName: String, rootDirectory: String, options: Options = .init(),
                logger: Logger = Logger(label: "caravel.kubelet")) {
        self.kubeconfigPath = kubeconfigPath
        self.nodeName = nodeName
        self.rootDirectory = rootDirectory
        self.options = options
        self.logger = logger
    }

    public func run() async throws {
        let connection = try Kubeconfig.load(path: kubeconfigPath)
        // Several fake nodes share one pod watch (`FleetSharing`); the connections then serve
        // short requests only (heartbeats, pod status), the registration gate and the client's
        // 429 retries keeping the burst within the server's in-flight limits.
        let fleetSize = options.runtime == "fake" ? max(1, options.nodes) : 1
        let client = try KubeRESTClient(connection: connection,
                                        options: .init(maxConnectionsPerHost: fleetSize > 1 ? 96 : 16, userAgent: "caravel-kubelet/\(nodeName)"))
        defer { Task { try? await client.shutdown() } }
        if options.waitForReady {
            guard await cancelWhenGracefulShutdown({ await client.waitUntilReady() }) else { return }
        }
        let clientCA = Self.pem(connection.certificateAuthority)
        var fleet: FleetSharing?
        if fleetSize > 1 {
            // Heartbeats get connections of their own, as kubelet's heartbeat client: queued
            // behind a rollout's pod status writes they would come too late, and nodes whose
            // Leases lapse turn NotReady.
            let heartbeats = try KubeRESTClient(connection: connection,
                                                options: .init(maxConnectionsPerHost: FleetSharing.heartbeatConnections,
                                                               userAgent: "caravel-kubelet/\(nodeName)"))
            fleet = FleetSharing(pods: NodePodFeed(client: client), heartbeatClient: heartbeats, heartbeats: HeartbeatExecutor())
        }
        defer {
            if let heartbeats = fleet?.heartbeatClient { Task { try? await heartbeats.shutdown() } }
            fleet?.heartbeats?.shutdown()
        }
        let kubelets = try makeKubelets(client: client, clientCA: clientCA, fleet: fleet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let fleet {
                group.addTask { _ = await cancelWhenGracefulShutdown { await fleet.pods.run() } }
                // The clock runs until the kubelets have returned: their loops sleep on it.
                group.addTask(executorPreference: fleet.heartbeats) { await fleet.clock.run() }
            }
            for k in kubelets { group.addTask { try await k.run() } }
            // The kubelets return on graceful shutdown; the shared feed stops with them.
            for _ in kubelets { _ = try await group.next() }
            group.cancelAll()
        }
    }

    private func makeKubelets(client: KubeRESTClient, clientCA: String?, fleet: FleetSharing?) throws -> [Kubelet] {
        if options.runtime == "fake" {
            let names = options.nodes <= 1 ? [nodeName] : (1...options.nodes).map { "\(nodeName)-\($0)" }
            return names.map { name in
                // Fake containers change only when told to (pod updates and exits wake a worker at
                // once), so the periodic resync is only a safety net: every 10 s for one node, and
                // for a fleet every minute, kubelet's default `--sync-frequency`, which keeps tens of
                // thousands of idle pods from waking a worker each every few seconds.
                // Each fake node serves logs, exec and /metrics/resource like a real one (several nodes: a free port each).
                Kubelet(config: .init(nodeName: name, rootDirectory: rootDirectory + "/" + name,
                                      serverPort: names.count == 1 ? options.serverPort : 0, bindAddress: options.bindAddress,
                                      syncInterval: names.count == 1 ? .seconds(10) : .seconds(60), fleet: fleet),
                        client: client, runtime: FakeRuntime(), network: nil, clientCA: clientCA, logger: logger)
            }
        }
        let paths = KubeletPaths(root: rootDirectory)
        let network = PodNetwork(paths: paths, nodeName: nodeName, logger: logger)
        let shim = options.shimPath ?? Self.siblingExecutable("caravel-shim")
        guard FileManager.default.isExecutableFile(atPath: shim) else {
            throw KubeconfigError("caravel-shim not found at \(shim): build it with `swift build` (it sits next to caravel)")
        }
        let runtime: any ContainerRuntime
        if options.runtime == "oci" {
            let runc = try RuncCommand.locate(options.ociRuntime, stateRoot: paths.root + "/oci")
            let registries = try RegistryHosts.load(path: options.registriesConfig ?? paths.root + "/registries.yaml",
                                                    insecure: options.insecureRegistries)
            let gc = ImageGarbageCollector(highThresholdPercent: options.imageGCHighThreshold, lowThresholdPercent: options.imageGCLowThreshold)
            runtime = OCIRuntime(paths: paths, shimPath: shim, network: network, runtime: runc, registries: registries, imageGC: gc,
                                 logger: logger)
        } else {
            runtime = ProcessRuntime(paths: paths, shimPath: shim, network: network, logger: logger)
        }
        let dns = NodeDNS(options: options.dns, client: client, nodeName: nodeName, logger: logger)
        var proxy: ServiceProxy?
        if options.serviceProxy {
            let bridge = PodNetworkHost.bridgeName(rootDirectory: rootDirectory, nodeName: nodeName)
            proxy = ServiceProxy(config: .init(nodeName: nodeName, rootDirectory: rootDirectory, serviceCIDR: options.serviceCIDR, bridge: bridge),
                                 client: client, nodeIPs: { [await network.hostIP()] }, logger: logger)
        }
        return [Kubelet(config: .init(nodeName: nodeName, rootDirectory: rootDirectory, serverPort: options.serverPort,
                                      bindAddress: options.bindAddress),
                        client: client, runtime: runtime, network: network, clientCA: clientCA, dns: dns, dnsOptions: options.dns,
                        proxy: proxy, logger: logger)]
    }

    /// A program in the directory of the running executable.
    static func siblingExecutable(_ name: String) -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return ((exe as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
    }

    static func pem(_ source: PEMSource?) -> String? {
        switch source {
        case .data(let bytes)?: return String(decoding: bytes, as: UTF8.self)
        case .file(let path)?: return try? String(contentsOfFile: path, encoding: .utf8)
        case nil: return nil
        }
    }
}
