import KubeClient
import KubeModel
import Synchronization

/// The measured phases, each against one fresh namespace.
struct Phases: Sendable {
    let client: KubeRESTClient
    let namespace: String

    var configMaps: ResourcePath { .core("configmaps", namespace: namespace) }

    static func configMap(_ name: String, index: Int) -> JSONValue {
        [
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": ["name": .string(name), "labels": ["app": "caravel-bench"]],
            "data": ["index": .string(String(index)), "payload": .string(String(repeating: "x", count: 64))],
        ]
    }

    static func objectName(_ i: Int) -> String { "cm-" + String(i) }

    /// Creates `count` ConfigMaps from `concurrency` workers (worker w takes w, w+C, w+2C, …).
    /// Returns the wall time in ms and each create's latency.
    func creates(count: Int, concurrency: Int) async throws -> (wallMs: Double, latencies: [Double]) {
        let path = configMaps.path
        let start = monotonicNanos()
        let latencies = try await Self.fanOut(count: count, concurrency: concurrency) { i in
            _ = try await client.create(path, Self.configMap(Self.objectName(i), index: i))
        }
        return (millis(since: start), latencies)
    }

    /// `count` GETs of the objects made by `creates`, round-robin over the first `existing`.
    func gets(count: Int, existing: Int, concurrency: Int) async throws -> (wallMs: Double, latencies: [Double]) {
        let base = configMaps
        let start = monotonicNanos()
        let latencies = try await Self.fanOut(count: count, concurrency: concurrency) { i in
            let obj = try await client.get(base.named(Self.objectName(i % existing)).path)
            guard obj.name == Self.objectName(i % existing) else {
                throw BenchError("GET \(Self.objectName(i % existing)) answered an object named \(obj.name ?? "nil")")
            }
        }
        return (millis(since: start), latencies)
    }

    /// Runs `op(i)` for i in 0..<count on `concurrency` child tasks; answers per-op latencies (ms).
    @discardableResult
    static func fanOut(count: Int, concurrency: Int,
                       _ op: @escaping @Sendable (Int) async throws -> Void) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<min(concurrency, count) {
                group.addTask {
                    var samples: [Double] = []
                    for i in stride(from: worker, to: count, by: concurrency) {
                        let t0 = monotonicNanos()
                        try await op(i)
                        samples.append(millis(since: t0))
                    }
                    return samples
                }
            }
            var all: [Double] = []
            all.reserveCapacity(count)
            for try await part in group { all += part }
            return all
        }
    }

    static let seqKey = "bench.caravel.dev/seq"
    static let sentKey = "bench.caravel.dev/sent-ns"

    /// Opens a watch on the namespace's ConfigMaps, then updates one object `events` times, one at
    /// a time. Each update carries its send time in an annotation; the watcher computes the
    /// delay when the matching MODIFIED event arrives. The writer waits for each event before
    /// the next write, so delays measure delivery, not queueing behind earlier events. One
    /// unmeasured warm-up update comes first (connection setup, watch registration).
    func watchDelivery(events: Int, perEventTimeout: Duration = .seconds(10)) async throws -> [Double] {
        let name = "watch-target"
        var obj = try await client.create(configMaps.path, Self.configMap(name, index: -1))
        guard let rv = obj.resourceVersion else { throw BenchError("created ConfigMap has no resourceVersion") }
        let objectPath = configMaps.named(name).path
        let stream = try await client.watch(configMaps.path, query: ["resourceVersion": rv])
        let (arrivals, arrived) = AsyncStream<(seq: Int, delayMs: Double)>.makeStream()

        let progress = ProgressCounter()

        // withTaskGroup's body cannot throw, so the outcome leaves it as a Result.
        let outcome = await withTaskGroup(of: (any Error)?.self) { group -> Result<[Double], any Error> in
            // Watcher: turns MODIFIED events of the target into (seq, delay) arrivals.
            group.addTask {
                defer { arrived.finish() }
                do {
                    for try await event in stream {
                        let received = monotonicNanos()
                        guard event.type == "MODIFIED", event.object.name == name else {
                            if let err = event.apiError { return BenchError("watch ERROR event: \(err)") }
                            continue
                        }
                        let ann = event.object.annotations
                        guard let seq = ann[Self.seqKey].flatMap({ Int($0) }),
                              let sent = ann[Self.sentKey].flatMap({ UInt64($0) }) else { continue }
                        arrived.yield((seq, millis(since: sent, to: received)))
                    }
                    return BenchError("watch stream ended by the server")
                } catch {
                    return error
                }
            }
            // Watchdog: a lost event must fail the run, not hang it. No progress for a whole
            // period ends the arrivals, which the writer reports.
            group.addTask {
                var seen = -1
                while !Task.isCancelled {
                    try? await Task.sleep(for: perEventTimeout)
                    let now = progress.value
                    if now == seen && !Task.isCancelled {
                        arrived.finish()
                        return nil
                    }
                    seen = now
                }
                return nil
            }

            var delays: [Double] = []
            delays.reserveCapacity(events)
            var pending = arrivals.makeAsyncIterator()
            var failure: (any Error)?
            writes: for seq in 0...events {
                progress.bump()
                do {
                    obj[path: ["metadata", "annotations"]] = [
                        Self.seqKey: .string(String(seq)),
                        Self.sentKey: .string(String(monotonicNanos())),
                    ]
                    obj = try await client.update(objectPath, obj)
                } catch {
                    failure = error
                    break writes
                }
                while true {
                    guard let arrival = await pending.next() else {
                        // The watcher ended (its error says why) or the watchdog fired (it
                        // returns nil): the first child to finish tells which.
                        let watcherError = await group.next() ?? nil
                        failure = watcherError ?? BenchError("no watch event for update \(seq) within \(perEventTimeout * 2)")
                        break writes
                    }
                    if arrival.seq == seq {
                        if seq > 0 { delays.append(arrival.delayMs) }
                        break
                    }
                }
            }
            group.cancelAll()
            if let failure { return .failure(failure) }
            return .success(delays)
        }
        return try outcome.get()
    }
}

/// A counter the watch writer bumps and its watchdog samples.
final class ProgressCounter: Sendable {
    private let count = Mutex(0)
    func bump() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
