import Foundation

/// Node ports of one range (30000-32767 by default). Not thread-safe by itself:
/// `ServiceAllocations` holds it under its lock.
struct NodePortAllocator: Sendable {
    enum Outcome: Equatable { case allocated, taken, outOfRange }

    let range: ClosedRange<Int>
    private var bitmap: AllocationBitmap

    init(range: ClosedRange<Int>) {
        self.range = range
        bitmap = AllocationBitmap(size: range.count)
    }

    var allocatedCount: Int { bitmap.count }

    func isAllocated(_ port: Int) -> Bool { range.contains(port) && bitmap.has(port - range.lowerBound) }

    /// Takes a requested port.
    mutating func allocate(_ port: Int) -> Outcome {
        guard range.contains(port) else { return .outOfRange }
        return bitmap.allocate(port - range.lowerBound) ? .allocated : .taken
    }

    /// Takes a free port, or nil when the range is full.
    mutating func allocateNext() -> Int? {
        bitmap.allocateNext(in: 0..<range.count).map { $0 + range.lowerBound }
    }

    mutating func release(_ port: Int) {
        if range.contains(port) { bitmap.release(port - range.lowerBound) }
    }
}
