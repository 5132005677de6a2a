/// An element a `BinaryHeap` orders: `precedes` says which leaves the heap first.
protocol HeapOrdered {
    func precedes(_ other: Self) -> Bool
}

/// A binary heap whose `first` precedes every other element: the work queue's priority order
/// and its delayed items' due times both sit on it.
struct BinaryHeap<Element: HeapOrdered> {
    private var elements: [Element] = []

    init() {}

    /// A heap of `elements`, ordered in linear time.
    init(heapifying elements: [Element]) {
        self.elements = elements
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }

    var count: Int { elements.count }
    var first: Element? { elements.first }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard elements[child].precedes(elements[parent]) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func popFirst() -> Element? {
        guard let first = elements.first else { return nil }
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            siftDown(0)
        }
        return first
    }

    mutating func removeAll() { elements.removeAll() }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < elements.count, elements[left].precedes(elements[best]) { best = left }
            if right < elements.count, elements[right].precedes(elements[best]) { best = right }
            if best == parent { return }
            elements.swapAt(parent, best)
            parent = best
        }
    }
}

extension BinaryHeap: Sendable where Element: Sendable {}
