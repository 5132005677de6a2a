/// The items of a `WorkQueue` waiting for a worker, in hand-out order: first in, first out,
/// or — with priorities — highest priority first and first in, first out among equals, as
/// Kubernetes' scheduling queue orders pods by priority, then by when they were queued.
struct PendingItems<Item: Hashable & Sendable>: Sendable {
    /// FIFO storage: `fifo[head...]` wait, in order.
    private var fifo: [Item] = []
    private var head = 0
    /// Priority storage: a heap on (priority, -sequence).
    private var heap = BinaryHeap<Entry>()
    private var sequence: UInt64 = 0
    let prioritized: Bool

    struct Entry: Sendable, HeapOrdered {
        var item: Item
        var priority: Int
        var sequence: UInt64

        /// Whether `self` goes out before `other`.
        func precedes(_ other: Entry) -> Bool {
            priority != other.priority ? priority > other.priority : sequence < other.sequence
        }
    }

    init(prioritized: Bool) {
        self.prioritized = prioritized
    }

    var count: Int { prioritized ? heap.count : fifo.count - head }

    mutating func append(_ item: Item, priority: Int) {
        guard prioritized else {
            fifo.append(item)
            return
        }
        sequence += 1
        heap.push(Entry(item: item, priority: priority, sequence: sequence))
    }

    mutating func pop() -> Item? {
        guard prioritized else {
            guard head < fifo.count else { return nil }
            let item = fifo[head]
            head += 1
            if head > 64 && head * 2 > fifo.count {
                fifo.removeFirst(head)
                head = 0
            }
            return item
        }
        return heap.popFirst()?.item
    }
}
