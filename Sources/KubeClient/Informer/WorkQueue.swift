import NIOConcurrencyHelpers

/// A de-duplicating, rate-limited work queue for controllers (client-go's workqueue).
///
/// - An item queued twice before a worker takes it is handed out once.
/// - An item added while a worker processes it is handed out again only after `done`, so one
///   key is never reconciled by two workers at once.
/// - `addAfter` delays an item; `addRateLimited` delays it by its per-item exponential backoff,
///   which `forget` resets.
///
/// With a `priority`, waiting items are handed out highest priority first (first in, first out
/// among equals) instead of in arrival order.
///
/// Delayed items move to the queue from `run()`, which must be running (the controller manager
/// runs it next to the workers); it returns after `shutdown()` or on cancellation. The clock is
/// injected so tests can drive delays without sleeping.
public final class WorkQueue<Item: Hashable & Sendable, C: Clock>: Sendable where C.Duration == Duration {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Item?, Never>
    }

    private struct State {
        var queue: PendingItems<Item>
        var dirty: Set<Item> = []
        var processing: Set<Item> = []
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var delayed = DelayedItems<Item, C.Instant>()
        var backoff: ItemBackoff<Item>
        var shuttingDown = false
        /// Passes of `run()`'s loop: one per deadline or wake, never a spin.
        var releasePasses = 0

        var queuedCount: Int { queue.count }

        mutating func pop() -> Item? { queue.pop() }

        /// Queues `item` unless it is already waiting; returns a waiter to resume with it.
        mutating func insert(_ item: Item, priority: Int) -> (CheckedContinuation<Item?, Never>, Item)? {
            guard !shuttingDown, !dirty.contains(item) else { return nil }
            dirty.insert(item)
            // Re-queued by `done` once the current worker finishes.
            if processing.contains(item) { return nil }
            queue.append(item, priority: priority)
            return handOff()
        }

        /// Gives the next queued item to a waiting worker, if both exist.
        mutating func handOff() -> (CheckedContinuation<Item?, Never>, Item)? {
            guard !waiters.isEmpty, let item = pop() else { return nil }
            let waiter = waiters.removeFirst()
            dirty.remove(item)
            processing.insert(item)
            return (waiter.continuation, item)
        }
    }

    private let clock: C
    private let state: NIOLockedValueBox<State>
    /// Wakes `run()` when `addAfter` brings an earlier deadline. Not an AsyncStream: a
    /// cancelled `next()` would finish the stream, and every later wait would return at once.
    private let wake = WakeSignal()
    /// An item's priority, read when it is queued (outside the lock); nil: arrival order.
    private let priority: (@Sendable (Item) -> Int)?

    /// A queue whose delays are measured on `clock` and whose backoff is `backoff`; with
    /// `priority`, higher-priority items are handed out first.
    public init(clock: C, backoff: ItemBackoff<Item> = ItemBackoff(), priority: (@Sendable (Item) -> Int)? = nil) {
        self.clock = clock
        self.priority = priority
        self.state = NIOLockedValueBox(State(queue: PendingItems(prioritized: priority != nil), backoff: backoff))
    }

    /// Queues `item` now (no-op if it is already queued or the queue is shut down).
    public func add(_ item: Item) {
        let p = priority?(item) ?? 0
        if let (continuation, item) = state.withLockedValue({ $0.insert(item, priority: p) }) {
            continuation.resume(returning: item)
        }
    }

    /// Queues `item` once `delay` has passed; an earlier pending time for it wins.
    public func addAfter(_ item: Item, _ delay: Duration) {
        guard delay > .zero else { return add(item) }
        let at = clock.now.advanced(by: delay)
        let changed = state.withLockedValue { s -> Bool in
            guard !s.shuttingDown else { return false }
            return s.delayed.schedule(item, at: at)
        }
        if changed { wake.signal() }
    }

    /// Queues `item` after its next backoff delay (call after a failed reconcile).
    public func addRateLimited(_ item: Item) {
        addAfter(item, state.withLockedValue { $0.backoff.next(item) })
    }

    /// Resets the backoff of `item` (call after a successful reconcile).
    public func forget(_ item: Item) {
        state.withLockedValue { $0.backoff.forget(item) }
    }

    /// Failures recorded for `item` since it was last forgotten.
    public func numRequeues(_ item: Item) -> Int {
        state.withLockedValue { $0.backoff.failures(item) }
    }

    /// Marks `item` processed; if it was added meanwhile, it is queued again now.
    public func done(_ item: Item) {
        let p = priority?(item) ?? 0
        let resume = state.withLockedValue { s -> (CheckedContinuation<Item?, Never>, Item)? in
            s.processing.remove(item)
            guard s.dirty.contains(item) else { return nil }
            s.queue.append(item, priority: p)
            return s.handOff()
        }
        if let (continuation, item) = resume { continuation.resume(returning: item) }
    }

    /// Waits for the next item and marks it as processing; call `done` with it afterwards.
    /// Answers `nil` once the queue is shut down and empty, or when the caller is cancelled.
    public func get() async -> Item? {
        let id = state.withLockedValue { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                let immediate = state.withLockedValue { s -> Item?? in
                    if let item = s.pop() {
                        s.dirty.remove(item)
                        s.processing.insert(item)
                        return .some(item)
                    }
                    // Cancellation set before we got here: its handler found no waiter to resume.
                    if s.shuttingDown || Task.isCancelled { return .some(nil) }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { s -> Waiter? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i)
            }
            waiter?.continuation.resume(returning: nil)
        }
    }

    /// Items queued and not yet handed out (delayed items not included).
    public var count: Int { state.withLockedValue { $0.queuedCount } }

    /// Items waiting for their delay to pass.
    public var delayedCount: Int { state.withLockedValue { $0.delayed.count } }

    /// How often `run()` has looked for due items (each deadline or wake is one pass).
    public var releasePasses: Int { state.withLockedValue { $0.releasePasses } }

    /// Workers blocked in `get()`.
    public var waitingWorkers: Int { state.withLockedValue { $0.waiters.count } }

    /// Whether `shutdown()` was called.
    public var isShuttingDown: Bool { state.withLockedValue { $0.shuttingDown } }

    /// Stops accepting items; waiting workers get `nil`, items already queued are still handed
    /// out, and `run()` returns.
    public func shutdown() {
        let waiters = state.withLockedValue { s -> [Waiter] in
            s.shuttingDown = true
            s.delayed.removeAll()
            // Workers only wait when the queue is empty, so nothing is lost by waking them all.
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.continuation.resume(returning: nil) }
        wake.signal()
    }

    /// Moves delayed items to the queue when their time comes. Runs until `shutdown()` or
    /// cancellation.
    public func run() async {
        while !Task.isCancelled {
            guard case .wait(let deadline) = releaseDue() else { return }
            let clock = self.clock
            let wake = self.wake
            // Sleep until the earliest deadline, or until `addAfter` brings an earlier one.
            await withTaskGroup(of: Void.self) { group in
                if let deadline {
                    group.addTask { try? await clock.sleep(until: deadline, tolerance: nil) }
                }
                group.addTask { await wake.wait() }
                _ = await group.next()
                group.cancelAll()
            }
        }
    }

    /// Queues every delayed item whose time has come; answers the next deadline to wait for,
    /// or `nil` when the queue is shut down.
    private enum Release { case stop, wait(C.Instant?) }

    private func releaseDue() -> Release {
        let now = clock.now
        let (due, next, stop) = state.withLockedValue { s -> ([Item], C.Instant?, Bool) in
            if s.shuttingDown { return ([], nil, true) }
            s.releasePasses += 1
            let (due, next) = s.delayed.popDue(now: now)
            return (due, next, false)
        }
        if stop { return .stop }
        for item in due { add(item) }
        return .wait(next)
    }
}

extension WorkQueue where C == ContinuousClock {
    /// A queue on the real (continuous) clock.
    public convenience init(backoff: ItemBackoff<Item> = ItemBackoff(), priority: (@Sendable (Item) -> Int)? = nil) {
        self.init(clock: ContinuousClock(), backoff: backoff, priority: priority)
    }
}
