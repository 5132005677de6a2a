import Synchronization

/// Group commit: concurrent writers queue their writes and one drain on the store's writer
/// commits every queued write in one transaction, so one fsync serves all the writers waiting
/// for it. The drain runs on the writer's own thread, wakes each writer from there and, when
/// more writes queued meanwhile, schedules the next batch there too: neither a batch nor a
/// result waits for a thread of the task pool, which on a busy server can take longer than
/// the commit itself. No writer waits for more than the batch in flight and its own.
final class GroupCommit<Context, Write: Sendable, Output: Sendable>: Sendable {
    /// Runs its argument later on the serialized writer, handing it the writer's context.
    typealias Run = @Sendable (@escaping @Sendable (Context) -> Void) -> Void
    /// Commits one batch, in queue order, and answers one result per write.
    typealias Commit = @Sendable (Context, [Write]) -> [Result<Output, any Error>]

    private struct Entry: Sendable {
        let write: Write
        let continuation: CheckedContinuation<Output, any Error>
    }

    private struct State: Sendable {
        var queue: [Entry] = []
        /// A drain is scheduled or running; writers only queue.
        var draining = false
    }

    private let state = Mutex(State())
    private let run: Run
    private let commit: Commit
    /// Writes in one transaction at most, so one batch cannot hold the writer for long.
    let maxBatch: Int

    init(maxBatch: Int = 256, run: @escaping Run, commit: @escaping Commit) {
        self.maxBatch = max(1, maxBatch)
        self.run = run
        self.commit = commit
    }

    /// Writes waiting for a commit (not counting a batch being committed).
    var queued: Int { state.withLock { $0.queue.count } }

    /// Queues `write` and returns its result once its batch has committed.
    func submit(_ write: Write) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { s -> Bool in
                s.queue.append(Entry(write: write, continuation: continuation))
                guard !s.draining else { return false }
                s.draining = true
                return true
            }
            if starts { run { self.drain($0) } }
        }
    }

    /// Commits one batch on the writer and wakes its writers. A further batch goes to the back
    /// of the writer's queue, so other work on the writer (compaction) is not starved.
    private func drain(_ context: Context) {
        let batch = state.withLock { s -> [Entry] in
            let n = min(s.queue.count, maxBatch)
            let taken = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            return taken
        }
        // Never empty: a drain is scheduled only with writes queued, and only drains take them.
        let results = commit(context, batch.map(\.write))
        for (i, entry) in batch.enumerated() {
            entry.continuation.resume(with: i < results.count ? results[i] : .failure(StoreError.io("a grouped write got no result")))
        }
        let more = state.withLock { s -> Bool in
            if s.queue.isEmpty { s.draining = false }
            return s.draining
        }
        if more { run { self.drain($0) } }
    }
}
