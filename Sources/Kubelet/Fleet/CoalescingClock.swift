import Synchronization

/// A clock whose sleeps end together, on shared ticks, rather than each on its own timer.
///
/// A fleet of thousands of fake nodes runs three periodic loops per node (Lease renewals,
/// status checks, relists). On their own timers that is thousands of wakeups a second, each a
/// hop between the timer thread, the heartbeat thread and the event loops, and each write
/// reaching the API server alone, so that nothing there is batched. On this clock a sleep ends
/// on the first tick at or after its deadline: one wakeup per tick resumes every loop due in
/// it, the heartbeat thread runs them back to back, and their writes reach the server
/// together and share its commits. A sleep ends at most one tick late.
///
/// With a tick of zero the clock sleeps as `ContinuousClock` (a node of its own). Otherwise
/// sleeps end only while `run()` drives the ticks; once it returns, they throw
/// `CancellationError`.
public final class CoalescingClock: Clock, Sendable {
    public typealias Instant = ContinuousClock.Instant

    public let tick: Duration
    /// Tick n ends at `origin + n × tick`.
    let origin: Instant
    private let state = Mutex(State())

    private struct State {
        var nextID: UInt64 = 0
        /// Sleepers by the tick they end on (ticks counted from `origin`), and where each is.
        var ticks: [Int64: [UInt64: CheckedContinuation<Void, Error>]] = [:]
        var tickOf: [UInt64: Int64] = [:]
        /// The last tick whose sleepers were woken.
        var woken: Int64 = 0
        var stopped = false
    }

    /// A clock that sleeps as `ContinuousClock`.
    public static let continuous = CoalescingClock(tick: .zero)

    public init(tick: Duration) {
        self.tick = max(.zero, tick)
        origin = .now
    }

    public var now: Instant { .now }
    public var minimumResolution: Duration { tick }

    /// Sleepers waiting for a tick (for tests).
    public var sleeperCount: Int { state.withLock { $0.tickOf.count } }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        guard tick > .zero else { return try await Task.sleep(until: deadline, clock: .continuous) }
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                let outcome: Result<Void, Error>? = state.withLock { s in
                    // Checked under the lock the cancellation handler takes: a cancellation
                    // either shows here or finds the sleeper registered.
                    if Task.isCancelled || s.stopped { return .failure(CancellationError()) }
                    let index = max(tickIndex(endingNoEarlierThan: deadline), s.woken + 1)
                    s.ticks[index, default: [:]][id] = c
                    s.tickOf[id] = index
                    return nil
                }
                if let outcome { c.resume(with: outcome) }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, Error>? in
                guard let index = s.tickOf.removeValue(forKey: id) else { return nil }
                return s.ticks[index]?.removeValue(forKey: id)
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Drives the ticks until cancelled; then every sleeper still waiting throws
    /// `CancellationError`, as do later sleeps. Returns at once with a tick of zero.
    public func run() async {
        guard tick > .zero else { return }
        while true {
            let next = origin.advanced(by: tick * (state.withLock { $0.woken } + 1))
            do { try await Task.sleep(until: next, clock: .continuous) } catch { break }
            wake(through: tickIndex(endedBy: .now))
        }
        let rest = state.withLock { s -> [CheckedContinuation<Void, Error>] in
            s.stopped = true
            let all = s.ticks.values.flatMap(\.values)
            s.ticks = [:]
            s.tickOf = [:]
            return all
        }
        for c in rest { c.resume(throwing: CancellationError()) }
    }

    /// Wakes the sleepers of every tick up to `last`, in tick order.
    func wake(through last: Int64) {
        let due = state.withLock { s -> [CheckedContinuation<Void, Error>] in
            guard last > s.woken else { return [] }
            var due: [CheckedContinuation<Void, Error>] = []
            // Few ticks pass between two wakes; after a long stall, walk the stored ticks instead.
            let indices = last - s.woken <= Int64(s.ticks.count) ? Array(s.woken + 1...last) : s.ticks.keys.filter { $0 <= last }.sorted()
            for index in indices {
                guard let sleepers = s.ticks.removeValue(forKey: index) else { continue }
                for (id, c) in sleepers {
                    s.tickOf[id] = nil
                    due.append(c)
                }
            }
            s.woken = last
            return due
        }
        for c in due { c.resume() }
    }

    /// The first tick at or after `instant`.
    func tickIndex(endingNoEarlierThan instant: Instant) -> Int64 {
        Self.clamped((origin.duration(to: instant) / tick).rounded(.up))
    }

    /// The last tick at or before `instant`.
    func tickIndex(endedBy instant: Instant) -> Int64 {
        Self.clamped((origin.duration(to: instant) / tick).rounded(.down))
    }

    /// A tick count as an integer; a deadline ages away (`.seconds(.max)`) stays representable.
    static func clamped(_ ticks: Double) -> Int64 {
        Int64(min(max(ticks, -1e15), 1e15))
    }
}
