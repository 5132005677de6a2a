import Foundation

/// A value behind a lock. NSLock rather than `Mutex` because the package still builds for
/// macOS 14, where `Synchronization.Mutex` is unavailable.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Everything the endpoints change or report: health switches and the metric counters.
final class AppState: Sendable {
    struct RequestKey: Hashable, Comparable {
        var path: String
        var code: Int
        static func < (a: Self, b: Self) -> Bool { (a.path, a.code) < (b.path, b.code) }
    }

    private struct Mutable {
        var livenessFailed = false
        var manualReady = true
        var requests: [RequestKey: Int] = [:]
        var burnSeconds: Double = 0
    }

    let config: DemoConfig
    /// Monotonic start, for the delays; wall-clock start, for `process_start_time_seconds`.
    let started = ContinuousClock.now
    let startedAt = Date()
    private let state = Locked(Mutable())

    init(config: DemoConfig) { self.config = config }

    var uptime: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    var startupComplete: Bool { uptime >= config.startupDelay }

    var live: Bool {
        if state.withLock({ $0.livenessFailed }) { return false }
        if let after = config.failLivenessAfter, uptime >= after { return false }
        return true
    }

    var ready: Bool { notReadyReason == nil }

    /// Ready once started, unless switched off by POST /ready or by a missing READY_FILE.
    var notReadyReason: String? {
        if !startupComplete { return "still starting" }
        if !state.withLock({ $0.manualReady }) { return "switched off by POST /ready" }
        if let file = config.readyFile, !FileManager.default.fileExists(atPath: file) {
            return "\(file) is missing"
        }
        return nil
    }

    func failLiveness() { state.withLock { $0.livenessFailed = true } }
    func setReady(_ ready: Bool) { state.withLock { $0.manualReady = ready } }

    func countRequest(path: String, code: Int) {
        state.withLock { $0.requests[RequestKey(path: path, code: code), default: 0] += 1 }
    }

    func addBurn(seconds: Double) { state.withLock { $0.burnSeconds += seconds } }

    func snapshot() -> (requests: [(RequestKey, Int)], burnSeconds: Double) {
        state.withLock { s in (s.requests.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, s.burnSeconds) }
    }
}
