import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Kubelet

/// The pieces that let thousands of fake nodes share one process: the registration gate,
/// heartbeat jitter, the status report schedule and the shared pod feed.
@Suite struct FleetSharingTests {
    @Test(arguments: [1, 2]) func gateRunsAtMostItsLimitAndServesInArrivalOrder(limit: Int) async throws {
        let gate = ConcurrencyGate(limit: limit)
        let running = Locked(0), peak = Locked(0)
        let order = Locked<[Int]>([])
        let open = Locked(false)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<6 {
                group.addTask {
                    await gate.run {
                        order.withLock { $0.append(i) }
                        let now = running.withLock { $0 += 1; return $0 }
                        peak.withLock { $0 = max($0, now) }
                        while !open.value { await Task.yield() }
                        running.withLock { $0 -= 1 }
                    }
                }
                // Each task is queued before the next starts, so arrival order is 0…5.
                while await gate.load.running + gate.load.waiting < i + 1 { await Task.yield() }
            }
            #expect(await gate.load.running == limit)
            #expect(await gate.load.waiting == 6 - limit)
            open.value = true
        }
        #expect(peak.value == limit)
        // Waiters released together record their start in either order; one at a time, the
        // recorded order is the order of the grants.
        if limit == 1 { #expect(order.value == [0, 1, 2, 3, 4, 5]) } else { #expect(Set(order.value.prefix(limit)) == Set(0..<limit)) }
        #expect(await gate.load.running == 0)
    }

    @Test func jitterStretchesByAtMostItsFactor() {
        #expect(Jitter.apply(.seconds(10), factor: 0.04, random: 0) == .seconds(10))
        #expect(Jitter.apply(.seconds(10), factor: 0.04, random: 0.5) == .milliseconds(10_200))
        #expect(Jitter.apply(.seconds(10), factor: 0.04, random: 0.999_999) < .milliseconds(10_400))
        #expect(Jitter.apply(.seconds(10), factor: 0.04, random: 7) == .milliseconds(10_400))  // clamped
        #expect(Jitter.offset(within: .seconds(10), random: 0.25) == .milliseconds(2500))
        #expect(Jitter.offset(within: .seconds(10), random: -1) == .zero)
    }

    @Test func statusIsWrittenOnChangeOrWhenTheReportIntervalPassed() {
        let t0 = ContinuousClock.now
        var schedule = StatusReportSchedule(reportInterval: .seconds(60))
        let ready = StatusReportSchedule.signature(NodeConditions.desired(readiness: .ready, pressure: NodePressure()))
        let down = StatusReportSchedule.signature(NodeConditions.desired(readiness: NodeReadiness(problems: ["container runtime is down"]),
                                                                         pressure: NodePressure()))
        #expect(ready != down)
        #expect(schedule.isDue(ready, now: t0))  // nothing written yet
        schedule.wrote(ready, at: t0)
        #expect(!schedule.isDue(ready, now: t0 + .seconds(10)))
        #expect(!schedule.isDue(ready, now: t0 + .seconds(59)))
        #expect(schedule.isDue(down, now: t0 + .seconds(10)))  // a change goes out at once
        #expect(schedule.isDue(ready, now: t0 + .seconds(60)))  // the periodic report
        schedule.wrote(ready, at: t0 + .seconds(60))
        #expect(!schedule.isDue(ready, now: t0 + .seconds(61)))

        // Without a report interval every check writes (the single kubelet's behaviour).
        var always = StatusReportSchedule(reportInterval: nil)
        always.wrote(ready, at: t0)
        #expect(always.isDue(ready, now: t0))
    }

    @Test(.timeLimit(.minutes(5))) func onePodWatchFeedsEachNodeItsOwnPods() async throws {
        try await withInProcessAPIServer { client, _ in
            let feed = NodePodFeed(client: client)
            let running = Task { await feed.run() }
            defer { running.cancel() }
            let pods = ResourcePath.core("pods", namespace: "default")
            func pod(_ name: String, node: String?) -> JSONValue {
                var spec: JSONValue = ["containers": [["name": "main", "image": "fake"]]]
                if let node { spec["nodeName"] = .string(node) }
                return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": spec]
            }
            // A pod that exists before its node subscribes is handed over on subscription.
            _ = try await client.create(pods.path, pod("early", node: "node-a"))
            let seenA = PodLog(), seenB = PodLog()
            #expect(await feed.subscribe(node: "node-a", seenA.handler))
            #expect(await feed.subscribe(node: "node-b", seenB.handler))
            #expect(feed.subscribers == 2)
            // Listed at sync, or (when the list ran before the create) by the watch right after.
            #expect(await eventually(timeout: .seconds(30)) { seenA.adds.contains("early") })

            _ = try await client.create(pods.path, pod("a1", node: "node-a"))
            _ = try await client.create(pods.path, pod("b1", node: "node-b"))
            _ = try await client.create(pods.path, pod("unbound", node: nil))
            _ = try await client.create(pods.path, pod("other", node: "node-c"))
            _ = try await client.delete(pods.named("a1").path, options: ["gracePeriodSeconds": 0])
            #expect(await eventually(timeout: .seconds(30)) { seenA.deletes.contains("a1") && seenB.adds.contains("b1") })
            #expect(Set(seenA.adds) == ["early", "a1"])
            #expect(Set(seenB.adds) == ["b1"])
            #expect(seenB.deletes.isEmpty)

            // An unsubscribed node hears nothing more.
            feed.unsubscribe(node: "node-b")
            _ = try await client.create(pods.path, pod("b2", node: "node-b"))
            _ = try await client.create(pods.path, pod("a2", node: "node-a"))
            #expect(await eventually(timeout: .seconds(30)) { seenA.adds.contains("a2") })
            #expect(!seenB.adds.contains("b2"))
            for name in ["early", "a2", "b1", "b2", "unbound", "other"] {
                _ = try? await client.delete(pods.named(name).path, options: ["gracePeriodSeconds": 0])
            }
        }
    }
}

/// Names of the pods a subscriber was handed.
private final class PodLog: Sendable {
    private let added = Locked<[String]>([]), deleted = Locked<[String]>([])
    var adds: [String] { added.value }
    var deletes: [String] { deleted.value }
    var handler: InformerHandler {
        InformerHandler(onAdd: { [added] pod in added.withLock { $0.append(pod.name ?? "") } },
                        onDelete: { [deleted] pod in deleted.withLock { $0.append(pod.name ?? "") } })
    }
}
