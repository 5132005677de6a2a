import Synchronization

/// Group commit: concurrent writers queue their writes and one of them, the leader, commits
/// every queued write in one transaction, so one fsync serves all the writers waiting for it.
/// When a batch is done, leadership passes to the oldest writer still queued: no writer waits
/// for more than the batch in flight and its own.
final class GroupCommit<Write: Sendable, Output: Sendable>: Sendable {
    private final class Slot: Sendable {
        let result = Mutex<Result<Output, any Error>?>(nil)
    }

    private struct Entry: Sendable {
        let write: Write
        let slot: Slot
        /// Resumed with true to make this writer the leader, false when its result is in `slot`.
        var wakeup: CheckedContinuation<Bool, Never>?
    }

    private struct State: Sendable {
        var queue: [Entry] = []
        var leading = false
    }

    private let state = Mutex(State())
    /// Writes in one transaction at most, so one batch cannot hold the writer for long.
    let maxBatch: Int

    init(maxBatch: Int = 256) {
        self.maxBatch = max(1, maxBatch)
    }

    /// Writes waiting for a commit (not counting a batch being committed).
    var queued: Int { state.withLock { $0.queue.count } }

    /// Queues `write` and returns its result. `commit` runs one batch, in queue order, and
    /// answers one result per write; it is called by whichever writer leads at that moment.
    func submit(_ write: Write, commit: ([Write]) async -> [Result<Output, any Error>]) async throws -> Output {
        let slot = Slot()
        let leads = await withCheckedContinuation { (wakeup: CheckedContinuation<Bool, Never>) in
            let first = state.withLock { s -> Bool in
                let first = !s.leading
                s.leading = true
                s.queue.append(Entry(write: write, slot: slot, wakeup: first ? nil : wakeup))
                return first
            }
            if first { wakeup.resume(returning: true) }
        }
        if leads { await lead(commit: commit) }
        guard let result = slot.result.withLock({ $0 }) else {
            throw StoreError.io("a grouped write ended without a result")
        }
        return try result.get()
    }

    /// Commits one batch (this writer's own write is its first entry), wakes its writers, and
    /// hands leadership on, or gives it up when nothing is queued.
    private func lead(commit: ([Write]) async -> [Result<Output, any Error>]) async {
        let batch = state.withLock { s -> [Entry] in
            let n = min(s.queue.count, maxBatch)
            let taken = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            return taken
        }
        let results = await commit(batch.map(\.write))
        for (i, entry) in batch.enumerated() {
            let result = i < results.count ? results[i] : .failure(StoreError.io("a grouped write got no result"))
            entry.slot.result.withLock { $0 = result }
            entry.wakeup?.resume(returning: false)
        }
        let next = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard !s.queue.isEmpty else {
                s.leading = false
                return nil
            }
            let c = s.queue[0].wakeup
            s.queue[0].wakeup = nil
            return c
        }
        next?.resume(returning: true)
    }
}
