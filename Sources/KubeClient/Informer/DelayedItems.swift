/// The work queue's items waiting for their time: the earliest time asked for each item, and
/// a min-heap over those times, so that releasing the due items costs about their number and
/// not the number waiting (thousands of nodes each re-checked after a grace period). A heap
/// entry superseded by an earlier time for its item is skipped when it surfaces.
struct DelayedItems<Item: Hashable, Instant: Comparable> {
    private var times: [Item: Instant] = [:]
    private var heap = BinaryHeap<Entry>()

    fileprivate struct Entry: HeapOrdered {
        var at: Instant
        var item: Item
        func precedes(_ other: Entry) -> Bool { at < other.at }
    }

    /// Items waiting.
    var count: Int { times.count }

    /// Sets `item`'s time to `at` unless an earlier or equal one is pending; answers whether
    /// it changed.
    mutating func schedule(_ item: Item, at: Instant) -> Bool {
        if let existing = times[item], existing <= at { return false }
        times[item] = at
        heap.push(Entry(at: at, item: item))
        // Superseded entries pile up when items keep moving earlier: rebuild now and then.
        if heap.count > 2 * times.count + 64 { rebuild() }
        return true
    }

    /// Removes the items whose time is `now` or earlier; answers them and the next time after.
    mutating func popDue(now: Instant) -> (due: [Item], next: Instant?) {
        var due: [Item] = []
        while let top = heap.first {
            guard times[top.item] == top.at else {
                heap.popFirst()
                continue
            }
            if top.at > now { return (due, top.at) }
            heap.popFirst()
            times[top.item] = nil
            due.append(top.item)
        }
        return (due, nil)
    }

    mutating func removeAll() {
        times.removeAll()
        heap.removeAll()
    }

    private mutating func rebuild() {
        heap = BinaryHeap(heapifying: times.map { Entry(at: $0.value, item: $0.key) })
    }
}

extension DelayedItems: Sendable where Item: Sendable, Instant: Sendable {}
extension DelayedItems.Entry: Sendable where Item: Sendable, Instant: Sendable {}
