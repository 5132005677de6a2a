import Foundation
import KubeClient
import KubeModel
import Synchronization

/// Watches one namespace's pods and stamps, on this process's monotonic clock, when each was
/// first seen and first seen Running / Ready, and when each container restart was seen. The
/// API's timestamps have one-second resolution; these have the watch's (sub-millisecond).
final class PodTracker: Sendable {
    /// A pod's stamps: plain numbers, so that the waits' scans over 10,000 of them copy no
    /// references (the pods' objects are kept apart, in `objects`).
    struct Seen: Sendable {
        var added: UInt64
        /// First seen with spec.nodeName (bound by the scheduler, or created bound).
        var bound: UInt64?
        var running: UInt64?
        var ready: UInt64?
        var restarts = 0
        /// When `restarts` last went up with the container running again.
        var restartedRunning: UInt64?
    }

    private struct Table {
        var seen: [String: Seen] = [:]
        /// Each pod as last seen.
        var objects: [String: JSONValue] = [:]
    }

    private let state = Mutex(Table())
    private let watcher = Mutex<Task<Void, Never>?>(nil)
    let client: KubeRESTClient
    let pods: ResourcePath

    init(client: KubeRESTClient, namespace: String) {
        self.client = client
        self.pods = .core("pods", namespace: namespace)
    }

    /// Lists for a resourceVersion, then watches from it (re-watching if the server ends it).
    func start() async throws {
        let list = try await client.list(pods.path)
        var rv = list.resourceVersion ?? list[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
        let task = Task { [client, pods] in
            while !Task.isCancelled {
                do {
                    let stream = try await client.watch(pods.path, query: ["resourceVersion": rv, "allowWatchBookmarks": "true"])
                    for try await event in stream {
                        if let v = event.object.resourceVersion, !v.isEmpty { rv = v }
                        if event.type == "ADDED" || event.type == "MODIFIED" { self.record(event.object) }
                    }
                } catch {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        watcher.withLock { $0 = task }
    }

    func stop() { watcher.withLock { $0?.cancel() } }

    private func record(_ pod: JSONValue) {
        guard let name = pod.name else { return }
        let now = monotonicNanos()
        let phase = pod[path: ["status", "phase"]]?.stringValue
        let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
        let first = pod[path: ["status", "containerStatuses"]]?.arrayValue?.first
        let restarts = Int(first?["restartCount"]?.intValue ?? 0)
        let runningNow = first?[path: ["state", "running"]] != nil
        state.withLock { table in
            var s = table.seen[name] ?? Seen(added: now)
            if pod[path: ["spec", "nodeName"]]?.stringValue != nil, s.bound == nil { s.bound = now }
            if phase == "Running", s.running == nil { s.running = now }
            if ready, s.ready == nil { s.ready = now }
            if restarts > s.restarts, runningNow {
                s.restarts = restarts
                s.restartedRunning = now
            }
            table.seen[name] = s
            table.objects[name] = pod
        }
    }

    var snapshot: [String: Seen] { state.withLock { $0.seen } }

    /// Each pod's object as last seen, by name.
    var objects: [String: JSONValue] { state.withLock { $0.objects } }

    /// Polls until `done` holds over the pods seen. Fails when nothing changed for `stall` (a
    /// lost pod must fail the run, not hang it); `progress` says what counts as a change. Both
    /// run under the lock on the table itself, not on a copy that the watch's next write would
    /// have to copy again, whole.
    func wait(stall: Duration, what: String, progress: @escaping ([String: Seen]) -> Int,
              done: @escaping ([String: Seen]) -> Bool) async throws {
        var last = -1
        var lastChange = ContinuousClock.now
        while true {
            let (finished, p) = state.withLock { table in (done(table.seen), progress(table.seen)) }
            if finished { return }
            if p != last { last = p; lastChange = .now }
            if ContinuousClock.now - lastChange > stall {
                throw BenchError("\(what): stuck at \(p) for \(stall)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// Milliseconds between two monotonic stamps.
func spanMs(_ from: UInt64, _ to: UInt64?) -> Double? { to.map { millis(since: from, to: $0) } }

extension PodTracker {
    /// Pods seen, bound and Ready by each `step` after `start`, one line per step: whether the
    /// creates or the pipeline behind them set a rollout's pace.
    static func timeline(_ seen: [Seen], since start: UInt64, step: Double = 10) -> [String] {
        let at = { (stamp: UInt64?) in stamp.map { millis(since: start, to: $0) / 1000 } }
        let added = seen.compactMap { at($0.added) }, bound = seen.compactMap { at($0.bound) }
        let ready = seen.compactMap { at($0.ready) }
        guard let end = ready.max() else { return [] }
        return stride(from: step, through: end + step, by: step).map { t in
            "  by \(Int(t)) s: \(added.count { $0 <= t }) seen, \(bound.count { $0 <= t }) bound, \(ready.count { $0 <= t }) Ready"
        }
    }
}
