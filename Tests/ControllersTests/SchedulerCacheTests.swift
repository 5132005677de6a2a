import KubeModel
import KubeTesting
import Testing
@testable import Controllers

/// The scheduler's incremental cache: node sums follow pod and node events in any order,
/// assumed pods count at once and leave when forgotten or expired (on an injected clock), and
/// concurrent events leave the same state as a rebuild from the final objects.
@Suite struct SchedulerCacheTests {
    typealias F = SchedulerFilterTests

    static func bound(_ name: String, to node: String, cpu: String = "500m", phase: String? = nil) -> JSONValue {
        var pod = F.pod(name, cpu: cpu)
        pod[path: ["spec", "nodeName"]] = .string(node)
        if let phase { pod[path: ["status", "phase"]] = .string(phase) }
        return pod
    }

    static func summary(_ nodes: [NodeInfo]) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0.podInfos.keys.sorted()) })
    }

    static func cpu(_ cache: SchedulerCache<ManualClock>, _ node: String) -> Int64? {
        cache.nodes.first { $0.name == node }?.requested["cpu"]
    }

    @Test func aNodeInfoIsAValue() {
        var original = NodeInfo(node: F.node("a", cpu: "4"), pods: [Self.bound("p1", to: "a")])
        var copy = original
        copy.add(PodInfo(Self.bound("p2", to: "a", cpu: "1")))
        #expect(original.podInfos.count == 1 && original.requested["cpu"] == 500)
        #expect(copy.podInfos.count == 2 && copy.requested["cpu"] == 1500)
        original.setNode(F.node("a", cpu: "8"))
        #expect(original.allocatable["cpu"] == 8000 && copy.allocatable["cpu"] == 4000)
        let removed = copy.remove(PodInfo(Self.bound("p1", to: "a")).key)
        #expect(removed)
        #expect(original.podInfos.count == 1 && copy.podInfos.count == 1 && copy.requested["cpu"] == 1000)
    }

    @Test func sumsFollowPodAndNodeEvents() {
        let cache = SchedulerCache(clock: ManualClock())
        // A pod bound to a node the cache has not seen yet waits for it.
        cache.setPod(Self.bound("p1", to: "a"))
        #expect(cache.nodes.isEmpty)
        cache.setNode(F.node("a"))
        cache.setNode(F.node("b"))
        #expect(Self.cpu(cache, "a") == 500)
        cache.setPod(Self.bound("p2", to: "a", cpu: "250m"))
        #expect(Self.cpu(cache, "a") == 750)
        #expect(cache.nodes.first { $0.name == "a" }?.nonZeroMemory == 2 * SchedulingScore.defaultMemory)
        // A changed request replaces the old one; a finished pod frees its node.
        cache.setPod(Self.bound("p2", to: "a", cpu: "1"))
        #expect(Self.cpu(cache, "a") == 1500)
        cache.setPod(Self.bound("p2", to: "a", cpu: "1", phase: "Succeeded"))
        #expect(Self.cpu(cache, "a") == 500)
        // Node gone and back: its pods come back with it; a changed node keeps its pods.
        cache.removeNode("a")
        #expect(Self.summary(cache.nodes) == ["b": []])
        cache.setNode(F.node("a", cpu: "4"))
        #expect(Self.summary(cache.nodes) == ["a": ["default/p1"], "b": []])
        cache.setNode(F.node("a", cpu: "8"))
        #expect(cache.nodes.first { $0.name == "a" }?.allocatable["cpu"] == 8000)
        #expect(Self.cpu(cache, "a") == 500)
        cache.removePod(key: "default/p1")
        #expect(Self.cpu(cache, "a") == 0)
    }

    @Test func assumedPodsCountAtOnceAndLeaveWhenForgottenOrExpired() {
        let clock = ManualClock()
        let cache = SchedulerCache(clock: clock, assumedTTL: .seconds(30))
        cache.setNode(F.node("a"))
        cache.setNode(F.node("b"))
        func place(_ name: String) -> SchedulingDecision {
            let pod = PodInfo(F.pod(name, cpu: "1500m"))
            return cache.place(pod) { nodes, start in SchedulingScore.schedule(pod: pod, nodes: nodes, start: start) }
        }
        // Each decision sees the previous one before any binding is confirmed.
        #expect(place("p1") == .bind("a"))
        #expect(place("p2") == .bind("b"))
        #expect(place("p3") == .unschedulable("0/2 nodes are available: 2 Insufficient cpu."))
        #expect(cache.isAssumed("default/p1") && cache.isAssumed("default/p2"))
        // A failed binding gives the node back.
        cache.forget("default/p2")
        #expect(!cache.isAssumed("default/p2"))
        #expect(Self.cpu(cache, "b") == 0)
        // Unconfirmed bindings never expire while they are on their way...
        clock.advance(by: .seconds(60))
        #expect(cache.isAssumed("default/p1"))
        // ...and expire assumedTTL after they were sent.
        cache.finishBinding("default/p1")
        clock.advance(by: .seconds(29))
        #expect(cache.isAssumed("default/p1"))
        clock.advance(by: .seconds(1))
        #expect(!cache.isAssumed("default/p1"))
        #expect(Self.cpu(cache, "a") == 0)
    }

    @Test func theInformerConfirmsOrReplacesAnAssumedPod() {
        let clock = ManualClock()
        let cache = SchedulerCache(clock: clock, assumedTTL: .seconds(30))
        cache.setNode(F.node("a"))
        cache.setNode(F.node("b"))
        let pod = PodInfo(F.pod("p", cpu: "1"))
        #expect(cache.place(pod) { _, _ in (.bind("a"), 2) } == .bind("a"))
        cache.finishBinding("default/p")
        // An update still showing the pod unbound (a status write) keeps the assumption.
        cache.setPod(F.pod("p", cpu: "1"))
        #expect(cache.isAssumed("default/p") && Self.cpu(cache, "a") == 1000)
        // The informer shows it bound (to the node it actually got): confirmed, never expires.
        cache.setPod(Self.bound("p", to: "b", cpu: "1"))
        #expect(!cache.isAssumed("default/p"))
        clock.advance(by: .seconds(120))
        #expect(Self.cpu(cache, "a") == 0 && Self.cpu(cache, "b") == 1000)
        // A pod deleted and recreated under the same name (another uid) drops the assumption.
        #expect(cache.place(PodInfo(F.pod("q", cpu: "1"))) { _, _ in (.bind("a"), 2) } == .bind("a"))
        var replaced = F.pod("q", cpu: "1")
        replaced[path: ["metadata", "uid"]] = "another"
        cache.setPod(replaced)
        #expect(!cache.isAssumed("default/q") && Self.cpu(cache, "a") == 0)
    }

    /// Events for 40 nodes and 400 pods from 8 concurrent tasks, each in its own order, with
    /// nodes deleted and re-added and pods moved, finished and deleted: the cache equals a
    /// rebuild from the objects as they ended.
    @Test func concurrentEventsLeaveTheSameStateAsARebuild() async {
        let cache = SchedulerCache(clock: ManualClock())
        let nodes = (0..<40).map { "n\($0)" }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for i in stride(from: task, to: 400, by: 8) {
                        let name = "p\(i)"
                        cache.setPod(Self.bound(name, to: nodes[i % 40]))
                        if i % 5 == 0 { cache.setNode(F.node(nodes[(i / 8) % 40])) }
                        if i % 7 == 0 { cache.setPod(Self.bound(name, to: nodes[(i + 1) % 40], cpu: "100m")) }
                        if i % 11 == 0 { cache.setPod(Self.bound(name, to: nodes[i % 40], phase: "Failed")) }
                        if i % 13 == 0 { cache.removePod(key: "default/" + name) }
                        if i % 17 == 0 { cache.removeNode(nodes[(i + 3) % 40]) }
                    }
                }
            }
        }
        for node in nodes { cache.setNode(F.node(node)) }
        // The objects as they ended, placed from scratch.
        var expected: [String: [JSONValue]] = [:]
        for i in 0..<400 where i % 13 != 0 && i % 11 != 0 {
            let pod = i % 7 == 0 ? Self.bound("p\(i)", to: nodes[(i + 1) % 40], cpu: "100m") : Self.bound("p\(i)", to: nodes[i % 40])
            expected[pod[path: ["spec", "nodeName"]]?.stringValue ?? "", default: []].append(pod)
        }
        let rebuilt = nodes.map { NodeInfo(node: F.node($0), pods: expected[$0] ?? []) }
        #expect(Self.summary(cache.nodes) == Self.summary(rebuilt))
        let sums = Dictionary(uniqueKeysWithValues: cache.nodes.map { ($0.name, [$0.requested["cpu"] ?? 0, $0.nonZeroCPU, $0.nonZeroMemory]) })
        let rebuiltSums = Dictionary(uniqueKeysWithValues: rebuilt.map { ($0.name, [$0.requested["cpu"] ?? 0, $0.nonZeroCPU, $0.nonZeroMemory]) })
        #expect(sums == rebuiltSums)
    }

    @Test func largeClustersStopAfterEnoughFeasibleNodesAndRotateTheStart() {
        #expect(SchedulingScore.feasibleNodesToFind(total: 50) == 50)
        #expect(SchedulingScore.feasibleNodesToFind(total: 200) == 100)
        #expect(SchedulingScore.feasibleNodesToFind(total: 1000) == 420)
        #expect(SchedulingScore.feasibleNodesToFind(total: 5000) == 500)
        #expect(SchedulingScore.feasibleNodesToFind(total: 20000) == 1000)
        let cache = SchedulerCache(clock: ManualClock())
        for i in 0..<1000 { cache.setNode(F.node(String(format: "n%04d", i))) }
        var evaluated: [Int] = []
        var starts: [Int] = []
        for i in 0..<3 {
            let pod = PodInfo(F.pod("p\(i)", cpu: "100m"))
            _ = cache.place(pod) { nodes, start in
                let result = SchedulingScore.schedule(pod: pod, nodes: nodes, start: start)
                evaluated.append(result.evaluated)
                starts.append(start)
                return result
            }
        }
        #expect(evaluated == [420, 420, 420])
        #expect(starts == [0, 420, 840])
        // With no feasible node every node is looked at, and the message counts them all.
        let big = PodInfo(F.pod("big", cpu: "64"))
        let decision = cache.place(big) { nodes, start in SchedulingScore.schedule(pod: big, nodes: nodes, start: start) }
        #expect(decision == .unschedulable("0/1000 nodes are available: 1000 Insufficient cpu."))
    }

    @Test func hostPortsConflictOnTheSameProtocolPortAndAddress() {
        func withPort(_ name: String, _ port: Int64, ip: String? = nil, proto: String? = nil) -> JSONValue {
            var p: [String: JSONValue] = ["containerPort": 80, "hostPort": .int(port)]
            if let ip { p["hostIP"] = .string(ip) }
            if let proto { p["protocol"] = .string(proto) }
            return F.pod(name, spec: ["containers": [["name": "c", "image": "x", "ports": [.object(p)]]]])
        }
        let n = F.info(F.node("a"), [withPort("used", 8080)])
        #expect(F.fails(withPort("p", 8080), n) == [.portsInUse])
        #expect(F.fails(withPort("p", 8080, ip: "10.0.0.1"), n) == [.portsInUse])
        #expect(F.fails(withPort("p", 8080, proto: "UDP"), n).isEmpty)
        #expect(F.fails(withPort("p", 8081), n).isEmpty)
        let specific = F.info(F.node("a"), [withPort("used", 8080, ip: "10.0.0.1")])
        #expect(F.fails(withPort("p", 8080, ip: "10.0.0.2"), specific).isEmpty)
        #expect(FilterFailure.portsInUse.description == "node(s) didn't have free ports for the requested pod ports")
    }
}
