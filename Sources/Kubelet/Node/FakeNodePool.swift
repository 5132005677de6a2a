import Foundation
import KubeClient
import Logging

/// One fake node's node-side pieces: its status reporter, its Lease heartbeat and its
/// runtime. The pod workers that use the runtime are the `Kubelet`'s business.
public struct FakeNode: Sendable {
    public let name: String
    public let reporter: NodeStatusReporter
    public let lease: LeaseHeartbeat
    public let runtime: FakeRuntime

    /// Hands the node's podCIDR to its runtime once assigned; true when it was.
    @discardableResult
    public func syncPodCIDR() async throws -> Bool {
        guard let cidr = await reporter.podCIDR() else { return false }
        try await runtime.setPodCIDR(cidr)
        return true
    }

    /// Status posts and Lease renewals until cancelled; a simulated node has nothing to check,
    /// so it is Ready.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await reporter.run(readiness: { .ready }) }
            group.addTask { await lease.run() }
        }
    }
}

/// Many fake nodes in one process over ONE shared client (as kwok): `<baseName>-1` …
/// `<baseName>-N`, each with the same generous capacity, no pressure (the host's state is not
/// theirs) and a `FakeRuntime`.
public struct FakeNodePool: Sendable {
    /// What each fake node offers: 32 CPUs, 256Gi memory, 1Ti storage, 110 pods.
    public static let defaultCapacity = NodeCapacity(cpuCores: 32, memoryBytes: 256 << 30, ephemeralStorageBytes: 1 << 40)

    public let client: KubeRESTClient
    public let names: [String]
    let capacity: NodeCapacity
    let hostIP: String
    let kubeletPort: Int
    let labels: [String: String]
    let statusInterval: Duration
    let leaseInterval: Duration
    let logger: Logger

    public init(client: KubeRESTClient, count: Int, baseName: String = "fake-node", capacity: NodeCapacity = FakeNodePool.defaultCapacity,
                hostIP: String = "127.0.0.1", kubeletPort: Int = 10250, labels: [String: String] = ["type": "fake"],
                statusInterval: Duration = .seconds(10), leaseInterval: Duration = .seconds(10), logger: Logger) {
        self.client = client
        self.names = (0..<max(0, count)).map { "\(baseName)-\($0 + 1)" }
        self.capacity = capacity
        self.hostIP = hostIP
        self.kubeletPort = kubeletPort
        self.labels = labels
        self.statusInterval = statusInterval
        self.leaseInterval = leaseInterval
        self.logger = logger
    }

    /// Registers every node, `concurrency` at a time, and returns their pieces in name order.
    /// A node that fails to register fails the whole call (the caller retries or gives up).
    public func register(concurrency: Int = 8) async throws -> [FakeNode] {
        var nodes: [Int: FakeNode] = [:]
        try await withThrowingTaskGroup(of: (Int, FakeNode).self) { group in
            var next = 0
            func launch() {
                guard next < names.count else { return }
                let index = next
                next += 1
                group.addTask { (index, try await self.registerOne(self.names[index])) }
            }
            for _ in 0..<max(1, concurrency) { launch() }
            while let (index, node) = try await group.next() {
                nodes[index] = node
                launch()
            }
        }
        return names.indices.compactMap { nodes[$0] }
    }

    func registerOne(_ name: String) async throws -> FakeNode {
        let reporter = NodeStatusReporter(client: client, nodeName: name, runtimeName: "fake", kubeletPort: kubeletPort,
                                          hostIP: hostIP, capacity: capacity, labels: labels, logger: logger,
                                          statusInterval: statusInterval, pressure: { NodePressure() })
        let node = try await reporter.register()
        let lease = LeaseHeartbeat(client: client, nodeName: name, nodeUID: node.uid ?? "", interval: leaseInterval, logger: logger)
        let runtime = FakeRuntime(hostIP: hostIP)
        if let cidr = node[path: ["spec", "podCIDR"]]?.stringValue, !cidr.isEmpty {
            do { try await runtime.setPodCIDR(cidr) } catch {
                logger.error("pod IPs come from the default range", metadata: ["node": .string(name), "error": .string("\(error)")])
            }
        }
        return FakeNode(name: name, reporter: reporter, lease: lease, runtime: runtime)
    }

    /// Runs every node's status and Lease loops until cancelled.
    public static func run(_ nodes: [FakeNode]) async {
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.run() } }
        }
    }
}
