import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Kubelet

/// Fifty fake nodes over one client register and keep their Leases fresh.
@Suite struct NodePoolTests {
    @Test(.timeLimit(.minutes(5))) func fiftyFakeNodesKeepTheirLeasesFresh() async throws {
        try await withInProcessAPIServer { client, _ in
            let pool = FakeNodePool(client: client, count: 50, statusInterval: .seconds(2), leaseInterval: .milliseconds(500),
                                    logger: NodeStatusTests.logger)
            let nodes = try await pool.register()
            #expect(nodes.map(\.name) == (1...50).map { "fake-node-\($0)" })
            let listed = try await client.list(ResourcePath.core("nodes").path, query: ["labelSelector": "type=fake"])
            #expect(listed["items"]?.arrayValue?.count == 50)

            let running = Task { await FakeNodePool.run(nodes) }
            defer { running.cancel() }
            // Every Lease exists and was renewed within the last 3 s, twice over some seconds apart.
            for _ in 0..<2 {
                let fresh = try await eventually(timeout: .seconds(30)) {
                    let leases = try await client.list(NodeStatusTests.leases.path)["items"]?.arrayValue ?? []
                    let now = Date()
                    let freshNames = leases.filter { lease in
                        guard let renewed = lease[path: ["spec", "renewTime"]]?.stringValue.flatMap(Timestamp.parse) else { return false }
                        return now.timeIntervalSince(renewed) < 3
                    }.compactMap(\.name)
                    return Set(freshNames).isSuperset(of: pool.names)
                }
                #expect(fresh)
                try await Task.sleep(for: .seconds(3))
            }
            // Every node posts Ready, and a node's runtime takes its podCIDR once assigned.
            let allReady = try await eventually(timeout: .seconds(10)) {
                let items = try await client.list(ResourcePath.core("nodes").path)["items"]?.arrayValue ?? []
                return items.filter { nodeReady($0) == "True" }.count == 50
            }
            #expect(allReady)
            _ = try await client.patch(ResourcePath.core("nodes").named("fake-node-7").path,
                                       ["spec": ["podCIDR": "10.244.7.0/24", "podCIDRs": ["10.244.7.0/24"]]])
            #expect(try await nodes[6].syncPodCIDR())
            let ip = try await nodes[6].runtime.startSandbox(PodSandboxConfig(podUID: "u", namespace: "default", name: "p", hostNetwork: false))
            #expect(ip.podIP == "10.244.7.2")
        }
    }

    @Test(.timeLimit(.minutes(2))) func aLeaseLoopOnTheFleetsClockRenewsOnItsTicks() async throws {
        try await withInProcessAPIServer { client, _ in
            // Ticks an hour apart, woken by hand: the loop renews only when its tick comes.
            let clock = CoalescingClock(tick: .seconds(3600))
            let lease = LeaseHeartbeat(client: client, nodeName: "ticking", nodeUID: "", interval: .seconds(10), clock: clock,
                                       logger: NodeStatusTests.logger)
            let path = NodeStatusTests.leases.named("ticking").path
            let running = Task { await lease.run() }
            defer { running.cancel() }
            // The first renewal comes at once; then the loop sleeps on tick 1.
            let parked = await eventually(timeout: .seconds(20)) { clock.sleeperCount == 1 }
            #expect(parked)
            let first = try await client.get(path)[path: ["spec", "renewTime"]]?.stringValue
            #expect(first != nil)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.get(path)[path: ["spec", "renewTime"]]?.stringValue == first)

            clock.wake(through: 1)
            let renewed = try await eventually(timeout: .seconds(20)) {
                try await client.get(path)[path: ["spec", "renewTime"]]?.stringValue != first
            }
            #expect(renewed)
            let parkedAgain = await eventually(timeout: .seconds(20)) { clock.sleeperCount == 1 }
            #expect(parkedAgain)
            running.cancel()
            await running.value
            #expect(clock.sleeperCount == 0)
        }
    }
}
