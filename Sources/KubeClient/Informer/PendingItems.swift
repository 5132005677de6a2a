/// The items of a `WorkQueue` waiting for a worker, in hand-out order: first in, first out,
/// or — with priorities — highest priority first and first in, first out among equals, as
/// Kubernetes' scheduling queue orders pods by priority, then by when they were queued.
struct PendingItems<Item: Hashable & Sendable>: Sendable {
    /// FIFO storage: `fifo[head...]` wait, in order.
    private var fifo: [Item] = []
    private var head = 0
    /// Priority storage: a binary max-heap on (priority, -sequence).
    private var heap: [Entry] = []
    private var sequence: UInt64 = 0
    let prioritized: Bool

    struct Entry: Sendable {
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
        heap.append(Entry(item: item, priority: priority, sequence: sequence))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
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
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count && heap[left].precedes(heap[best]) { best = left }
                if right < heap.count && heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return first.item
    }
}
