import Foundation
import KubeClient
import KubeModel

/// The kubelet phases: fake nodes at scale (a `caravel kubelet --runtime fake` child process),
/// and real processes on the server's built-in node.
struct KubeletPhases: Sendable {
    let client: KubeRESTClient
    let namespace: String
    let report: BenchReport

    static let nodes = ResourcePath.core("nodes")
    var pods: ResourcePath { .core("pods", namespace: namespace) }
    var deployments: ResourcePath { ResourcePath(group: "apps", plural: "deployments", namespace: namespace) }

    static func isReady(_ obj: JSONValue) -> Bool {
        (obj[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    // MARK: - fake nodes

    /// Starts `binary kubelet --runtime fake --nodes N --node-name bench` with `kubeconfig`,
    /// times its nodes to Ready, then a Deployment of `pods` pods pinned to them to all Ready.
    /// `soak`: rounds of pods created and deleted on those nodes afterwards (`SoakPhase`).
    func fakeNodes(binary: String, kubeconfig: String, nodes: Int, pods: Int, serverPID: Int32?,
                   soak: (rounds: Int, pods: Int, concurrency: Int)? = nil) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-bench-kubelet-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let kubelet = try ChildProcess.start(binary: binary, arguments: [
            "kubelet", "--kubeconfig", kubeconfig, "--runtime", "fake", "--nodes", String(nodes),
            "--node-name", "bench", "--port", "0", "--root-dir", root + "/root", "--log-level", "warning",
        ], log: root + "/kubelet.log")
        print("started fake kubelet (pid \(kubelet.pid), \(nodes) nodes, log \(root)/kubelet.log)")
        var failure: (any Error)?
        do {
            try await measureFake(kubelet: kubelet, nodes: nodes, pods: pods, serverPID: serverPID)
            if let soak, soak.rounds > 0 {
                guard let serverPID else { throw BenchError("the soak needs the server's pid (--start-server or --server-pid)") }
                _ = try? await client.delete(deployments.named("fake-bench").path, options: ["propagationPolicy": "Background"])
                try await SoakPhase(client: client, namespace: namespace, report: report)
                    .run(rounds: soak.rounds, pods: soak.pods, nodes: (1...nodes).map { "bench-\($0)" },
                         concurrency: soak.concurrency, serverPID: serverPID)
            }
        } catch {
            failure = error
        }
        // Pods on fake nodes need their kubelet to finish deleting: delete them before it stops;
        // nodes after it stopped, or it registers them again.
        await deleteFakePods()
        let exit = await kubelet.stop()
        await deleteFakeNodes(nodes)
        if let serverPID {
            print(rssLine(pid: serverPID, label: "server RSS after deleting fake pods and nodes"))
            let later = await residentKiBLater(pid: serverPID, at: [.seconds(30), .seconds(60), .seconds(120)])
            let line = later.map { "\($0.offset.components.seconds) s: \(fmt(Double($0.kib) / 1024)) MiB" }.joined(separator: ", ")
            print("server RSS after the deletes, later: \(line)")
        }
        if failure == nil, exit.clean { try? FileManager.default.removeItem(atPath: root) } else {
            print("fake kubelet \(exit); log kept in \(root)/kubelet.log")
        }
        if let failure { throw failure }
    }

    private func measureFake(kubelet: ChildProcess, nodes: Int, pods: Int, serverPID: Int32?) async throws {
        let t0 = monotonicNanos()
        var ready = 0
        var lastChange = ContinuousClock.now
        // A LIST of thousands of Nodes is itself a load on the server: poll those less often.
        let poll: Duration = nodes > 500 ? .seconds(1) : .milliseconds(100)
        while ready < nodes {
            guard kubelet.isRunning else { throw BenchError("fake kubelet exited; log:\n\(kubelet.logTail())") }
            let list = try await client.list(Self.nodes.path, query: ["labelSelector": "type=fake"])
            let now = (list["items"]?.arrayValue ?? []).filter { ($0.name ?? "").hasPrefix("bench-") && Self.isReady($0) }.count
            if now != ready { ready = now; lastChange = .now }
            if ContinuousClock.now - lastChange > .seconds(60) { throw BenchError("fake nodes: \(ready)/\(nodes) Ready, stuck for 60 s") }
            if ready < nodes { try await Task.sleep(for: poll) }
        }
        let nodesMs = millis(since: t0)
        print("fake nodes Ready: \(nodes) in \(fmt(nodesMs / 1000, 2)) s (\(fmt(Double(nodes) / (nodesMs / 1000))) nodes/s)")
        report.atMost("\(nodes) fake nodes Ready", nodesMs / 1000, "s", target: 60)
        if let serverPID { print(rssLine(pid: serverPID, label: "server RSS before pods")) }
        print(rssLine(pid: kubelet.pid, label: "fake kubelet RSS before pods"))
        guard pods > 0 else { return }

        let tracker = PodTracker(client: client, namespace: namespace)
        try await tracker.start()
        defer { tracker.stop() }
        let mutatingBefore = try await ServerLatencyHistogram.scrape(client, verbs: ServerLatencyHistogram.mutatingVerbs)
        let start = monotonicNanos()
        _ = try await client.create(deployments.path, Self.fakeDeployment(replicas: pods))
        try await tracker.wait(stall: .seconds(60), what: "fake pods Ready", progress: { $0.values.count { $0.ready != nil } }) {
            $0.values.count { $0.ready != nil } >= pods
        }
        let wallMs = millis(since: start)
        let seen = tracker.snapshot.values
        print("fake pods Ready: \(pods) in \(fmt(wallMs / 1000, 2)) s (\(fmt(Double(pods) / (wallMs / 1000))) pods/s, deployment create → last pod Ready)")
        report.atMost("\(pods) fake pods Ready after the Deployment", wallMs / 1000, "s", target: 60)
        if let s = LatencySummary(seen.compactMap { spanMs($0.added, $0.ready) }) {
            print("pod first seen → Ready ms (watch): \(s.line)")
        }
        // Where the time goes: waiting for the scheduler, or for the kubelet once bound.
        if let s = LatencySummary(seen.compactMap { spanMs($0.added, $0.bound) }) { print("  of which first seen → bound ms: \(s.line)") }
        if let s = LatencySummary(seen.compactMap { p in p.bound.flatMap { spanMs($0, p.ready) } }) {
            print("  of which bound → Ready ms: \(s.line)")
        }
        print("rollout timeline (since the Deployment's create):")
        PodTracker.timeline(Array(seen), since: start).forEach { print($0) }
        if let s = LatencySummary(tracker.objects.values.compactMap { Self.conditionLatencyMs($0) }) {
            print("pod creationTimestamp → Ready lastTransitionTime ms (1 s resolution): \(s.line)")
        }
        // Every write of the rollout: the ReplicaSet's creates, the bindings, the kubelets' status.
        let mutatingAfter = try await ServerLatencyHistogram.scrape(client, verbs: ServerLatencyHistogram.mutatingVerbs)
        if let p99 = mutatingBefore.quantile(0.99, until: mutatingAfter) {
            print("API mutating requests during the rollout: \(mutatingBefore.count(until: mutatingAfter)), p99 ≤ \(fmt(p99, 3)) s (server histogram bucket)")
            report.atMost("API mutating p99 with \(pods) pods (bucket bound)", p99, "s", target: 1)
        }
        if let serverPID {
            print(rssLine(pid: serverPID, label: "server RSS after pods"))
            if let kib = residentKiB(pid: serverPID) { report.atMost("server RSS with \(pods) pods", Double(kib) / 1024, "MiB", target: 1024) }
        }
        print(rssLine(pid: kubelet.pid, label: "fake kubelet RSS after pods"))
    }

    private func deleteFakePods() async {
        _ = try? await client.delete(deployments.named("fake-bench").path, options: ["propagationPolicy": "Background"])
        _ = try? await client.waitUntilEmpty(pods.path, timeout: .seconds(120))
    }

    private func deleteFakeNodes(_ nodes: Int) async {
        // Sixteen deletes in flight: thousands of nodes one at a time would take minutes.
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<16 {
                group.addTask {
                    for i in stride(from: 1 + lane, through: max(nodes, 1), by: 16) {
                        _ = try? await client.delete(Self.nodes.named("bench-\(i)").path)
                    }
                }
            }
        }
    }

    static func fakeDeployment(replicas: Int) -> JSONValue {
        let labels: JSONValue = ["app": "fake-bench"]
        return [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "fake-bench"],
            "spec": [
                "replicas": .int(Int64(replicas)),
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "nodeSelector": ["type": "fake"],
                        "terminationGracePeriodSeconds": 0,
                        "containers": [["name": "main", "image": "fake", "command": ["sleep", "3600"]]],
                    ],
                ],
            ],
        ]
    }

    /// Ready's lastTransitionTime minus creationTimestamp, both RFC 3339 at one-second resolution.
    static func conditionLatencyMs(_ pod: JSONValue) -> Double? {
        guard let created = pod[path: ["metadata", "creationTimestamp"]]?.stringValue.flatMap(Timestamp.parse),
              let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).first(where: {
                  $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
              }),
              let at = ready["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return at.timeIntervalSince(created) * 1000
    }

    // MARK: - process runtime

    /// Creates `count` `sh -c 'exec sleep 3600'` pods at once on the built-in node, times each
    /// create → Running and → Ready, then kills each container (SIGKILL to the pid the shim
    /// recorded under `kubeletRoot`), one at a time, and times kill → running again.
    func processPods(count: Int, kubeletRoot: String) async throws {
        // The built-in node registers a moment after the server answers.
        var builtIn: String?
        for _ in 0..<120 where builtIn == nil {
            let list = try await client.list(Self.nodes.path)
            builtIn = (list["items"]?.arrayValue ?? []).first(where: { $0.labels["type"] != "fake" && Self.isReady($0) })?.name
            if builtIn == nil { try await Task.sleep(for: .milliseconds(500)) }
        }
        guard let node = builtIn else {
            throw BenchError("no Ready built-in node after 60 s (start the server without --disable-kubelet)")
        }
        let tracker = PodTracker(client: client, namespace: namespace)
        try await tracker.start()
        defer { tracker.stop() }
        let names = (0..<count).map { "proc-\($0)" }
        let start = monotonicNanos()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask { _ = try await client.create(pods.path, Self.sleeperPod(name, node: node)) }
            }
            try await group.waitForAll()
        }
        try await tracker.wait(stall: .seconds(60), what: "process pods Ready", progress: { $0.values.count { $0.ready != nil } }) {
            $0.values.count { $0.ready != nil } >= count
        }
        let wallMs = millis(since: start)
        let seen = tracker.snapshot
        print("process pods: \(count) on node \(node), all Ready \(fmt(wallMs / 1000, 2)) s after the first create")
        report.atMost("\(count) process pods Ready after the creates", wallMs / 1000, "s", target: 5)
        if let s = LatencySummary(seen.values.compactMap { spanMs(start, $0.running) }) { print("pod create → Running ms: \(s.line)") }
        if let s = LatencySummary(seen.values.compactMap { spanMs(start, $0.ready) }) { print("pod create → Ready ms: \(s.line)") }

        var restarts: [Double] = []
        for name in names {
            guard let uid = tracker.objects[name]?.uid,
                  let text = try? String(contentsOfFile: "\(kubeletRoot)/pods/\(uid)/containers/main/0/pid", encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else {
                throw BenchError("no container pid for \(name) under \(kubeletRoot) (is --kubelet-root the server's?)")
            }
            let killed = monotonicNanos()
            guard kill(pid, SIGKILL) == 0 else { throw BenchError("kill \(pid) (\(name)): errno \(errno)") }
            try await tracker.wait(stall: .seconds(30), what: "restart of \(name)", progress: { _ in 0 }) {
                ($0[name]?.restartedRunning ?? 0) > killed
            }
            if let ms = spanMs(killed, tracker.snapshot[name]?.restartedRunning) { restarts.append(ms) }
        }
        if let s = LatencySummary(restarts) {
            print("container killed → running again ms: \(s.line) (\(restarts.count) kills, one at a time)")
            report.atMost("container killed → running again p50", s.p50, "ms", target: 200)
        }
        // Wait for the kubelet to stop them: the server may be stopped next, leaving processes.
        for name in names { _ = try? await client.delete(pods.named(name).path) }
        _ = try? await client.waitUntilEmpty(pods.path, timeout: .seconds(60))
    }

    static func sleeperPod(_ name: String, node: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "proc-bench"]],
            "spec": [
                "nodeName": .string(node),
                "terminationGracePeriodSeconds": 1,
                "containers": [["name": "main", "image": "busybox", "command": ["sh", "-c", "exec sleep 3600"]]],
            ],
        ]
    }
}
