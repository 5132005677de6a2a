import Foundation

/// A clock that moves only when a test calls `advance(by:)`; sleepers wake when their
/// deadline is reached, or throw when cancelled.
public final class ManualClock: Clock, @unchecked Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration
        public init(offset: Duration) { self.offset = offset }
        public func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, Error>
    }

    // Guarded by `lock`; the clock is shared between the test and the code under test.
    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [Sleeper] = []
    private var nextID = 0

    public var now: Instant { lock.withLock { current } }
    public var minimumResolution: Duration { .zero }

    /// Sleepers currently waiting (lets a test wait until the code under test is parked).
    public var sleeperCount: Int { lock.withLock { sleepers.count } }

    public init() {}

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                let resume: Result<Void, Error>? = lock.withLock {
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= current { return .success(()) }
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return nil
                }
                if let resume { c.resume(with: resume) }
            }
        } onCancel: {
            let s = lock.withLock { () -> Sleeper? in
                guard let i = sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return sleepers.remove(at: i)
            }
            s?.continuation.resume(throwing: CancellationError())
        }
    }

    public func advance(by d: Duration) {
        let due = lock.withLock { () -> [Sleeper] in
            current = current.advanced(by: d)
            let due = sleepers.filter { $0.deadline <= current }
            sleepers.removeAll { $0.deadline <= current }
            return due
        }
        for s in due { s.continuation.resume() }
    }
}

/// A task executor that knows whether any job it was given is still queued or running. Code under
/// test started with it as executor preference (child tasks inherit it) is quiescent when it is
/// idle: every such task is then blocked on something only the test moves, such as a ManualClock.
/// Counting sleepers instead cannot tell a loop parked on its retry sleep from one that is mid-
/// attempt with a short-lived guard sleeper parked in its place.
public final class QuiescenceExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `lock`: jobs enqueued and not yet finished.
    private let lock = NSLock()
    private var busy = 0

    public init() {}

    public var isIdle: Bool { lock.withLock { busy == 0 } }

    public func enqueue(_ job: consuming ExecutorJob) {
        lock.withLock { busy += 1 }
        let job = UnownedJob(job)
        DispatchQueue.global().async {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
            self.lock.withLock { self.busy -= 1 }
        }
    }
}
