import Synchronization

/// What one watch's consumer pulls next: the initial items first, then the subscription's
/// items; after the watch cache cut the subscription off, a single "fell behind" mark.
/// Pulled by exactly one consumer (`AsyncStream(unfolding:)` never calls concurrently);
/// `cancel` may come from anywhere.
final class WatchEventSource: @unchecked Sendable {
    enum Next {
        case ready(Registry.WatchOutput)
        case item(WatchItem)
        case fellBehind
    }

    private var head: [Registry.WatchOutput]
    private var headIndex = 0
    private var iterator: AsyncStream<WatchItem>.AsyncIterator
    private let fellBehind: @Sendable () -> Bool
    private var finished = false
    private let cancelled = Atomic<Bool>(false)
    private let cancelSubscription: @Sendable () -> Void

    init(head: [Registry.WatchOutput], subscription: WatchSubscription) {
        self.head = head
        self.iterator = subscription.items.makeAsyncIterator()
        self.fellBehind = subscription.fellBehind
        self.cancelSubscription = subscription.cancel
    }

    /// Ends the watch: the next pull returns nil, and a pull waiting for an event wakes.
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        cancelSubscription()
    }

    func next() async -> Next? {
        if finished || cancelled.load(ordering: .relaxed) { return nil }
        if headIndex < head.count {
            defer {
                headIndex += 1
                if headIndex == head.count { head = [] }  // the initial list is not kept for the watch's life
            }
            return .ready(head[headIndex])
        }
        // Checked before draining: the backlog of a watcher that fell behind is dropped, not sent.
        if fellBehind() {
            finished = true
            return .fellBehind
        }
        guard let item = await iterator.next() else {
            finished = true
            return fellBehind() ? .fellBehind : nil
        }
        return .item(item)
    }
}
