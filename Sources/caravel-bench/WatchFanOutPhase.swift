import KubeClient
import KubeModel
import Synchronization

/// Watch delivery at scale: one update reaching many concurrent watchers, and the rate at which
/// one watcher receives a backlog of events.
struct WatchFanOutPhase: Sendable {
    let client: KubeRESTClient
    let namespace: String

    var configMaps: ResourcePath { .core("configmaps", namespace: namespace) }

    /// Opens `watchers` watches on the namespace's ConfigMaps, each on its own connection (a
    /// client with that many), then updates one object `updates` times, one at a time: each
    /// update carries its send time, and the next is sent once every watcher has decoded the
    /// previous one. Answers every delivery's delay (ms), by watcher.
    func fanOut(watchers: Int, updates: Int, perUpdateTimeout: Duration = .seconds(30)) async throws -> [[Double]] {
        let name = "fanout-target"
        var obj = try await client.create(configMaps.path, Phases.configMap(name, index: -1))
        guard let rv = obj.resourceVersion else { throw BenchError("created ConfigMap has no resourceVersion") }
        let objectPath = configMaps.named(name).path
        let watchClient = try KubeRESTClient(connection: client.connection,
                                             options: .init(maxConnectionsPerHost: watchers + 2, userAgent: "caravel-bench-watchers"))
        let opened = monotonicNanos()
        // Opened 50 at a time: a thousand TLS handshakes at once would be a connect storm.
        var streams: [AsyncThrowingStream<WatchEvent, Error>] = []
        do {
            for batch in stride(from: 0, to: watchers, by: 50) {
                streams += try await withThrowingTaskGroup(of: (Int, AsyncThrowingStream<WatchEvent, Error>).self) { group in
                    for i in batch..<min(batch + 50, watchers) {
                        group.addTask { (i, try await watchClient.watch(configMaps.path, query: ["resourceVersion": rv])) }
                    }
                    var part: [(Int, AsyncThrowingStream<WatchEvent, Error>)] = []
                    for try await s in group { part.append(s) }
                    return part.sorted { $0.0 < $1.0 }.map(\.1)
                }
            }
        } catch {
            try? await watchClient.shutdown()
            throw error
        }
        print("watchers: \(watchers) opened in \(fmt(millis(since: opened) / 1000, 2)) s")

        let tally = DeliveryTally(watchers: watchers)
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Void.self) { group in
            for (index, stream) in streams.enumerated() {
                group.addTask {
                    do {
                        for try await event in stream {
                            let received = monotonicNanos()
                            guard event.type == "MODIFIED", event.object.name == name else { continue }
                            let ann = event.object.annotations
                            guard let seq = ann[Phases.seqKey].flatMap({ Int($0) }),
                                  let sent = ann[Phases.sentKey].flatMap({ UInt64($0) }) else { continue }
                            tally.record(watcher: index, seq: seq, delayMs: millis(since: sent, to: received))
                        }
                    } catch {}
                    tally.lost(watcher: index)
                }
            }
            defer { group.cancelAll() }
            do {
                for seq in 0...updates {
                    obj[path: ["metadata", "annotations"]] = [
                        Phases.seqKey: .string(String(seq)),
                        Phases.sentKey: .string(String(monotonicNanos())),
                    ]
                    obj = try await client.update(objectPath, obj)
                    let deadline = ContinuousClock.now + perUpdateTimeout
                    while !tally.complete(seq: seq) {
                        if let lost = tally.firstLost { throw BenchError("watcher \(lost) ended before update \(seq)") }
                        if ContinuousClock.now > deadline {
                            throw BenchError("update \(seq) reached \(tally.arrived(seq: seq)) of \(watchers) watchers in \(perUpdateTimeout)")
                        }
                        try await Task.sleep(for: .microseconds(200))
                    }
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try? await watchClient.shutdown()
        try outcome.get()
        // Update 0 is the warm-up: each watcher's first event.
        return tally.delays(skippingSeq: 0)
    }

    /// Creates `count` ConfigMaps, then opens one watch from the revision before them and
    /// times it from the request to the last of those events: the events a watch sends per
    /// second when it has a backlog to catch up on, not bounded by the write rate.
    func replayRate(count: Int, concurrency: Int) async throws -> Double {
        let before = try await client.list(configMaps.path, query: ["limit": "1"])
        guard let rv = before[path: ["metadata", "resourceVersion"]]?.stringValue else { throw BenchError("list has no resourceVersion") }
        let path = configMaps.path
        try await Phases.fanOut(count: count, concurrency: concurrency) { i in
            var cm = Phases.configMap("replay-\(i)", index: i)
            cm[path: ["metadata", "labels", "replay"]] = "yes"
            _ = try await client.create(path, cm)
        }
        let start = monotonicNanos()
        let stream = try await client.watch(path, query: ["resourceVersion": rv, "labelSelector": "replay=yes"])
        var added = 0
        for try await event in stream where event.type == "ADDED" {
            added += 1
            if added == count { break }
        }
        guard added == count else { throw BenchError("the replay watch ended after \(added) of \(count) events") }
        return Double(count) / (millis(since: start) / 1000)
    }
}

/// Which watcher received which update, and after how long.
final class DeliveryTally: Sendable {
    private struct State {
        var delays: [[Int: Double]]
        var arrivals: [Int: Int] = [:]
        var lost: Int?
    }
    private let state: Mutex<State>
    private let watchers: Int

    init(watchers: Int) {
        self.watchers = watchers
        state = Mutex(State(delays: Array(repeating: [:], count: watchers)))
    }

    func record(watcher: Int, seq: Int, delayMs: Double) {
        state.withLock { s in
            guard s.delays[watcher][seq] == nil else { return }
            s.delays[watcher][seq] = delayMs
            s.arrivals[seq, default: 0] += 1
        }
    }

    func lost(watcher: Int) { state.withLock { s in if s.lost == nil { s.lost = watcher } } }
    var firstLost: Int? { state.withLock { $0.lost } }
    func arrived(seq: Int) -> Int { state.withLock { $0.arrivals[seq] ?? 0 } }
    func complete(seq: Int) -> Bool { arrived(seq: seq) >= watchers }

    func delays(skippingSeq skipped: Int) -> [[Double]] {
        state.withLock { s in s.delays.map { $0.filter { $0.key != skipped }.map(\.value) } }
    }
}
