import Foundation

/// A clock that moves only when a test calls `advance(by:)`; sleepers wake when their
/// deadline is reached, or throw when cancelled.
final class ManualClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
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

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .zero }

    /// Sleepers currently waiting (lets a test wait until the code under test is parked).
    var sleeperCount: Int { lock.withLock { sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
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

    func advance(by d: Duration) {
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
final class QuiescenceExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `lock`: jobs enqueued and not yet finished.
    private let lock = NSLock()
    private var busy = 0

    var isIdle: Bool { lock.withLock { busy == 0 } }

    func enqueue(_ job: consuming ExecutorJob) {
        lock.withLock { busy += 1 }
        let job = UnownedJob(job)
        DispatchQueue.global().async {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
            self.lock.withLock { self.busy -= 1 }
        }
    }
}

/// Polls `condition` until it holds or three times `timeout` (real time) passes. The bound is
/// generous: it costs nothing when the condition holds, and the suites share a loaded 2-core
/// machine, where an in-process control plane may take many times its usual time. The pause
/// between polls grows from 5 ms to 100 ms, so that waiting tests do not load the servers that
/// others are waiting on.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout * 3
    var pause = Duration.milliseconds(5)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: pause)
        pause = min(pause * 2, .milliseconds(100))
    }
    return try await condition()
}
