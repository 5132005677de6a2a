import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Logging
import Testing
@testable import Kubelet

/// The node side against the real API server: registration, status posts, Lease renewal.
@Suite struct NodeStatusTests {
    static let leases = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases", namespace: "kube-node-lease")
    static let nodes = ResourcePath.core("nodes")

    static var logger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .warning
        return l
    }

    static func reporter(_ client: KubeRESTClient, name: String = "node-1", interval: Duration = .seconds(10),
                         labels: [String: String] = [:], pressure: NodePressure = NodePressure()) -> NodeStatusReporter {
        NodeStatusReporter(client: client, nodeName: name, runtimeName: "fake", kubeletPort: 10250, hostIP: "10.1.2.3",
                           capacity: NodeCapacity(cpuCores: 4, memoryBytes: 8 << 30, ephemeralStorageBytes: 100 << 30),
                           labels: labels, logger: logger, statusInterval: interval, pressure: { pressure })
    }

    @Test(.timeLimit(.minutes(5))) func registerReportsEverything() async throws {
        try await withInProcessAPIServer { client, _ in
            let node = try await Self.reporter(client, labels: ["zone": "a"]).register()
            #expect(node.labels["kubernetes.io/hostname"] == "node-1")
            #expect(node.labels["kubernetes.io/os"] == "linux")
            #expect(node.labels["node.kubernetes.io/instance-type"] == "caravel")
            #expect(node.labels["zone"] == "a")
            #expect(node[path: ["status", "capacity", "cpu"]] == "4")
            #expect(node[path: ["status", "capacity", "pods"]] == "110")
            #expect(node[path: ["status", "allocatable", "cpu"]] == "3900m")
            #expect(node[path: ["status", "capacity", "memory"]] == .string("\((8 << 30) / 1024)Ki"))
            #expect(node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]] == 10250)
            #expect(node[path: ["status", "nodeInfo", "kubeletVersion"]] == "v1.33.0+caravel")
            #expect(node[path: ["status", "nodeInfo", "containerRuntimeVersion"]] == "fake://caravel")
            #expect(node[path: ["status", "nodeInfo", "operatingSystem"]] == "linux")
            let addresses = node[path: ["status", "addresses"]]?.arrayValue ?? []
            #expect(addresses.contains(["type": "InternalIP", "address": "10.1.2.3"]))
            let types = Set((node[path: ["status", "conditions"]]?.arrayValue ?? []).compactMap { $0["type"]?.stringValue })
            #expect(types == ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"])
            #expect(nodeReady(node) == "True")

            // A second kubelet of the same name adopts the node: same UID, its labels set.
            let again = try await Self.reporter(client, labels: ["zone": "b"]).register()
            #expect(again.uid == node.uid)
            #expect(again.labels["zone"] == "b")
        }
    }

    @Test(.timeLimit(.minutes(5))) func statusLoopKeepsTransitionTimesAndFlips() async throws {
        try await withInProcessAPIServer { client, _ in
            let reporter = Self.reporter(client, interval: .milliseconds(200))
            let registered = try await reporter.register()
            let firstTransition = nodeCondition(registered, "Ready")?["lastTransitionTime"]
            let readyNow = NodeReadyFlag(true)
            let loop = Task { await reporter.run(readiness: { readyNow.value ? .ready : NodeReadiness(problems: ["container runtime is down"]) }) }
            defer { loop.cancel() }
            // Heartbeats move, the transition time does not (timestamps have 1 s precision).
            let beat = try await eventually(timeout: .seconds(10)) {
                let n = try await client.get(Self.nodes.named("node-1").path)
                return nodeCondition(n, "Ready")?["lastHeartbeatTime"] != nodeCondition(registered, "Ready")?["lastHeartbeatTime"]
                    && nodeCondition(n, "Ready")?["lastTransitionTime"] == firstTransition
            }
            #expect(beat)
            readyNow.value = false
            try await Task.sleep(for: .milliseconds(1100))
            let flipped = try await eventually(timeout: .seconds(10)) {
                let n = try await client.get(Self.nodes.named("node-1").path)
                return nodeReady(n) == "False" && nodeCondition(n, "Ready")?["lastTransitionTime"] != firstTransition
            }
            #expect(flipped)
        }
    }

    @Test(.timeLimit(.minutes(5))) func deletedNodeIsRegisteredAgainAndPodCIDRIsRead() async throws {
        try await withInProcessAPIServer { client, _ in
            let reporter = Self.reporter(client, interval: .milliseconds(200))
            let first = try await reporter.register()
            #expect(await reporter.podCIDR() == nil)
            _ = try await client.patch(Self.nodes.named("node-1").path, ["spec": ["podCIDR": "10.244.7.0/24", "podCIDRs": ["10.244.7.0/24"]]])
            #expect(await reporter.waitForPodCIDR(timeout: .seconds(5)) == "10.244.7.0/24")
            try await client.delete(Self.nodes.named("node-1").path)
            let loop = Task { await reporter.run(readiness: { .ready }) }
            defer { loop.cancel() }
            let back = await eventually(timeout: .seconds(10)) {
                let n = try? await client.get(Self.nodes.named("node-1").path)
                return n.map { $0.uid != first.uid } ?? false
            }
            #expect(back)
        }
    }

    @Test(.timeLimit(.minutes(5))) func leaseIsCreatedRenewedAndOwned() async throws {
        try await withInProcessAPIServer { client, _ in
            let node = try await Self.reporter(client).register()
            let heartbeat = LeaseHeartbeat(client: client, nodeName: "node-1", nodeUID: node.uid ?? "", interval: .milliseconds(200),
                                           logger: Self.logger)
            let loop = Task { await heartbeat.run() }
            defer { loop.cancel() }
            var first: String?
            let created = await eventually(timeout: .seconds(10)) {
                first = (try? await client.get(Self.leases.named("node-1").path))?[path: ["spec", "renewTime"]]?.stringValue
                return first != nil
            }
            #expect(created)
            // Someone else writes the Lease: the heartbeat re-reads it and keeps renewing.
            // (It races the heartbeat's own renewals: retry on a conflict as any client would.)
            let touched = try await eventually(timeout: .seconds(10)) {
                var lease = try await client.get(Self.leases.named("node-1").path)
                lease[path: ["metadata", "labels"]] = ["touched": "yes"]
                return (try? await client.update(Self.leases.named("node-1").path, lease)) != nil
            }
            try #require(touched)
            let renewed = try await eventually(timeout: .seconds(10)) {
                let l = try await client.get(Self.leases.named("node-1").path)
                return l[path: ["spec", "renewTime"]]?.stringValue != first && l.labels["touched"] == "yes"
            }
            #expect(renewed)
            loop.cancel()
            await loop.value
            let l = try await client.get(Self.leases.named("node-1").path)
            #expect(l[path: ["spec", "holderIdentity"]] == "node-1")
            #expect(l[path: ["spec", "leaseDurationSeconds"]] == 40)
            #expect(l[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"]?.stringValue == node.uid)
            #expect(l[path: ["spec", "renewTime"]]?.stringValue.flatMap(Timestamp.parse) != nil)
        }
    }

    @Test func capacityAndPressureFromTheHost() {
        let c = NodeCapacity.detect(rootDirectory: "/nonexistent/kubelet")
        #expect(c.cpuCores >= 1)
        #expect(c.memoryBytes > 0)
        #expect(c.ephemeralStorageBytes > 0)
        _ = NodePressure.observe(rootDirectory: "/")
        let conditions = NodeConditions.merge(NodeConditions.desired(readiness: .ready, pressure: NodePressure(memory: true)), current: [],
                                              now: Date())
        #expect(conditions.first { $0["type"] == "MemoryPressure" }?["status"] == "True")
        #expect(conditions.first { $0["type"] == "MemoryPressure" }?["reason"] == "KubeletHasInsufficientMemory")
    }
}

func nodeCondition(_ node: JSONValue, _ type: String) -> JSONValue? {
    node[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
}

func nodeReady(_ node: JSONValue) -> String? { nodeCondition(node, "Ready")?["status"]?.stringValue }

/// A flag the test flips while the status loop reads it.
final class NodeReadyFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { stored = value }
    var value: Bool {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
