import Foundation
import KubeClient
import KubeModel

/// Scheduler throughput on many nodes: the bench writes `nodes` Node objects itself (Ready,
/// 32 cpu, 256Gi, 110 pods, label `type=sched-bench`; no kubelet behind them, like kwok's
/// nodes), then creates `pods` pods that select them from `concurrency` clients, and times
/// until every pod is seen bound. Pods are force-deleted and nodes deleted afterwards.
///
/// With a backlog (`controllerManager` given, the server running without controllers) the pods
/// are all created first and the scheduler starts afterwards, in `caravel controller-manager`,
/// as Kubernetes' scheduler_perf does: the figure is then the scheduler's own rate, first
/// binding → last, not bounded by how fast pods can be created.
struct SchedulerPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String

    static let nodes = ResourcePath.core("nodes")
    var pods: ResourcePath { .core("pods", namespace: namespace) }

    static func nodeName(_ i: Int) -> String { "sched-bench-\(i)" }

    /// Pods bound per second from the first create to the last pod seen bound.
    func run(nodes: Int, pods count: Int, concurrency: Int, controllerManager: (binary: String, kubeconfig: String)? = nil) async throws -> Double {
        var failure: (any Error)?
        var rate = 0.0
        do {
            if let controllerManager {
                rate = try await measureBacklog(nodes: nodes, pods: count, concurrency: concurrency,
                                                binary: controllerManager.binary, kubeconfig: controllerManager.kubeconfig)
            } else {
                rate = try await measure(nodes: nodes, pods: count, concurrency: concurrency)
            }
        } catch {
            failure = error
        }
        _ = try? await Phases.fanOut(count: count, concurrency: concurrency) { i in
            _ = try? await client.delete(pods.named("sched-\(i)").path, options: ["gracePeriodSeconds": 0])
        }
        _ = try? await Phases.fanOut(count: nodes, concurrency: concurrency) { i in
            _ = try? await client.delete(Self.nodes.named(Self.nodeName(i)).path)
        }
        if let failure { throw failure }
        return rate
    }

    private func measure(nodes: Int, pods count: Int, concurrency: Int) async throws -> Double {
        let t0 = monotonicNanos()
        try await Phases.fanOut(count: nodes, concurrency: concurrency) { i in
            _ = try await client.create(Self.nodes.path, Self.node(Self.nodeName(i)))
        }
        print("scheduler nodes: \(nodes) created in \(fmt(millis(since: t0) / 1000, 2)) s")
        let tracker = PodTracker(client: client, namespace: namespace)
        try await tracker.start()
        defer { tracker.stop() }
        // The informer delivers nodes in order: once a pod pinned to the last node is bound,
        // the scheduler has seen them all.
        _ = try await client.create(pods.path, Self.pod("sched-probe", hostname: Self.nodeName(nodes - 1)))
        try await tracker.wait(stall: .seconds(60), what: "probe pod bound", progress: { _ in 0 }) { $0["sched-probe"]?.bound != nil }
        _ = try? await client.delete(pods.named("sched-probe").path, options: ["gracePeriodSeconds": 0])

        let start = monotonicNanos()
        try await Phases.fanOut(count: count, concurrency: concurrency) { i in
            _ = try await client.create(pods.path, Self.pod("sched-\(i)"))
        }
        let createdMs = millis(since: start)
        let bound: @Sendable ([String: PodTracker.Seen]) -> Int = { s in s.count { $0.key != "sched-probe" && $0.value.bound != nil } }
        try await tracker.wait(stall: .seconds(30), what: "pods bound", progress: bound) { bound($0) >= count }
        let wallMs = millis(since: start)
        let seen = tracker.snapshot.filter { $0.key != "sched-probe" }.values
        let rate = Double(count) / (wallMs / 1000)
        print("scheduler: \(count) pods bound on \(nodes) nodes in \(fmt(wallMs / 1000, 2)) s (\(fmt(rate)) pods/s, "
              + "first create → last bound; creates took \(fmt(createdMs / 1000, 2)) s)")
        if let s = LatencySummary(seen.compactMap { spanMs($0.added, $0.bound) }) { print("  pod first seen → bound ms: \(s.line)") }
        let placed = tracker.objects.filter { $0.key != "sched-probe" }.values
        let perNode = Dictionary(grouping: placed.compactMap { $0[path: ["spec", "nodeName"]]?.stringValue }, by: { $0 })
        print("  nodes used: \(perNode.count), pods per node max \(perNode.values.map(\.count).max() ?? 0)")
        return rate
    }

    private func measureBacklog(nodes: Int, pods count: Int, concurrency: Int, binary: String, kubeconfig: String) async throws -> Double {
        let t0 = monotonicNanos()
        try await Phases.fanOut(count: nodes, concurrency: concurrency) { i in
            _ = try await client.create(Self.nodes.path, Self.node(Self.nodeName(i)))
        }
        print("scheduler nodes: \(nodes) created in \(fmt(millis(since: t0) / 1000, 2)) s")
        let t1 = monotonicNanos()
        try await Phases.fanOut(count: count, concurrency: concurrency) { i in
            _ = try await client.create(pods.path, Self.pod("sched-\(i)"))
        }
        print("scheduler backlog: \(count) pending pods created in \(fmt(millis(since: t1) / 1000, 2)) s")
        let tracker = PodTracker(client: client, namespace: namespace)
        try await tracker.start()
        defer { tracker.stop() }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-bench-cm-\(UUID().uuidString.prefix(8)).log").path
        let start = monotonicNanos()
        let manager = try ChildProcess.start(binary: binary, arguments: [
            "controller-manager", "--kubeconfig", kubeconfig, "--leader-elect", "false", "--log-level", "warning",
        ], log: log)
        var failure: (any Error)?
        do {
            let bound: @Sendable ([String: PodTracker.Seen]) -> Int = { s in s.values.count { $0.bound != nil } }
            try await tracker.wait(stall: .seconds(30), what: "pods bound", progress: bound) { bound($0) >= count }
        } catch {
            failure = error
        }
        let exit = await manager.stop()
        if let failure {
            print("controller-manager \(exit); log kept in \(log)")
            throw failure
        }
        try? FileManager.default.removeItem(atPath: log)
        let stamps = tracker.snapshot.values.compactMap(\.bound).sorted()
        guard let first = stamps.first, let last = stamps.last, last > first else { throw BenchError("no bindings seen") }
        let rate = Double(stamps.count - 1) / (millis(since: first, to: last) / 1000)
        print("scheduler: \(count) pending pods bound on \(nodes) nodes: first binding \(fmt(millis(since: start, to: first) / 1000, 2)) s "
              + "after the controller manager started (informers synced), last \(fmt(millis(since: start, to: last) / 1000, 2)) s; "
              + "\(fmt(rate)) pods/s first → last binding")
        let perNode = Dictionary(grouping: tracker.objects.values.compactMap { $0[path: ["spec", "nodeName"]]?.stringValue }, by: { $0 })
        print("  nodes used: \(perNode.count), pods per node max \(perNode.values.map(\.count).max() ?? 0)")
        return rate
    }

    static func node(_ name: String) -> JSONValue {
        let resources: JSONValue = ["cpu": "32", "memory": "256Gi", "pods": "110"]
        return [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": ["type": "sched-bench", "kubernetes.io/hostname": .string(name)]],
            "status": [
                "capacity": resources, "allocatable": resources,
                "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady"]],
            ],
        ]
    }

    static func pod(_ name: String, hostname: String? = nil) -> JSONValue {
        var selector: JSONValue = ["type": "sched-bench"]
        if let hostname { selector["kubernetes.io/hostname"] = .string(hostname) }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "sched-bench"]],
            "spec": [
                "nodeSelector": selector,
                "terminationGracePeriodSeconds": 0,
                "containers": [["name": "main", "image": "fake", "resources": ["requests": ["cpu": "100m", "memory": "64Mi"]]]],
            ],
        ]
    }
}
