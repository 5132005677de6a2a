import Foundation
import KubeClient
import KubeModel

/// Memory soak: `rounds` times, create `pods` pods bound to the fake nodes (spec.nodeName set,
/// so the scheduler is not what is measured), wait until the fake kubelet has them all Running,
/// delete them and wait until they are gone. The server's RSS after the first and the last
/// round's deletes, and their ratio: memory that does not come back grows it round by round.
struct SoakPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String
    let report: BenchReport
    var pods: ResourcePath { .core("pods", namespace: namespace) }

    /// The target for last / first: growth beyond half again is a leak, not warm-up.
    static let maxGrowth = 1.5

    func run(rounds: Int, pods count: Int, nodes: [String], concurrency: Int, serverPID: Int32) async throws {
        guard !nodes.isEmpty else { throw BenchError("soak: no fake nodes to bind pods to") }
        var afterDelete: [Double] = []
        for round in 1...rounds {
            let start = monotonicNanos()
            try await Phases.fanOut(count: count, concurrency: concurrency) { i in
                _ = try await client.create(pods.path, Self.pod("soak-\(round)-\(i)", node: nodes[i % nodes.count]))
            }
            try await waitFor("soak round \(round): \(count) pods Running") { items in
                items.filter { $0[path: ["status", "phase"]]?.stringValue == "Running" }.count >= count
            }
            let upMs = millis(since: start)
            try await Phases.fanOut(count: count, concurrency: concurrency) { i in
                _ = try? await client.delete(pods.named("soak-\(round)-\(i)").path)
            }
            try await waitFor("soak round \(round): pods gone") { $0.isEmpty }
            guard let kib = residentKiB(pid: serverPID) else { throw BenchError("soak: cannot read the server's RSS") }
            let mib = Double(kib) / 1024
            afterDelete.append(mib)
            print("soak round \(round)/\(rounds): \(count) pods Running in \(fmt(upMs / 1000, 2)) s, all gone \(fmt(millis(since: start) / 1000, 2)) s after the first create; server RSS \(fmt(mib)) MiB")
        }
        guard let first = afterDelete.first, let last = afterDelete.last else { return }
        let growth = last / first
        print("soak: server RSS after the first delete \(fmt(first)) MiB, after the last \(fmt(last)) MiB, ratio \(fmt(growth, 2)) (target ≤ \(fmt(Self.maxGrowth, 2)))")
        report.atMost("soak: server RSS last / first delete (\(rounds) × \(count) pods)", growth, "x", target: Self.maxGrowth)
    }

    /// Polls the namespace's pods every 500 ms until `done`; fails after 120 s without change.
    private func waitFor(_ what: String, _ done: ([JSONValue]) -> Bool) async throws {
        var last = -1
        var lastChange = ContinuousClock.now
        while true {
            let items = try await client.list(pods.path, query: ["labelSelector": "app=soak-bench"])["items"]?.arrayValue ?? []
            if done(items) { return }
            let progress = items.count * 2 + items.filter { $0[path: ["status", "phase"]]?.stringValue == "Running" }.count
            if progress != last { last = progress; lastChange = .now }
            if ContinuousClock.now - lastChange > .seconds(120) { throw BenchError("\(what): no progress for 120 s (\(items.count) pods listed)") }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    static func pod(_ name: String, node: String) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "soak-bench"]],
            "spec": [
                "nodeName": .string(node),
                "terminationGracePeriodSeconds": 0,
                "containers": [["name": "main", "image": "fake", "command": ["sleep", "3600"]]],
            ],
        ]
    }
}
