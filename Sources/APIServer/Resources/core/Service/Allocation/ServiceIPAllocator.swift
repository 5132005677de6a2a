import Foundation

/// A fixed-size set of taken offsets. Free ones are found by scanning from a random start
/// (Kubernetes' random-scan strategy), so allocations spread over the range instead of
/// reusing a just-released value at once.
struct AllocationBitmap: Sendable {
    private var words: [UInt64]
    let size: Int
    private(set) var count = 0

    init(size: Int) {
        self.size = max(0, size)
        words = Array(repeating: 0, count: (self.size + 63) / 64)
    }

    func has(_ i: Int) -> Bool {
        guard i >= 0, i < size else { return false }
        return words[i >> 6] & (1 << UInt64(i & 63)) != 0
    }

    /// Takes `i`; false when it is out of range or already taken.
    mutating func allocate(_ i: Int) -> Bool {
        guard i >= 0, i < size, !has(i) else { return false }
        words[i >> 6] |= 1 << UInt64(i & 63)
        count += 1
        return true
    }

    mutating func release(_ i: Int) {
        guard has(i) else { return }
        words[i >> 6] &= ~(1 << UInt64(i & 63))
        count -= 1
    }

    /// Takes the first free offset in `candidates` at or after a random start, wrapping around.
    mutating func allocateNext(in candidates: Range<Int>) -> Int? {
        let lower = max(0, candidates.lowerBound), upper = min(size, candidates.upperBound)
        guard lower < upper else { return nil }
        let start = Int.random(in: lower..<upper)
        guard let i = firstFree(in: start..<upper) ?? firstFree(in: lower..<start) else { return nil }
        _ = allocate(i)
        return i
    }

    /// The first offset of `range` not taken, a full word at a time where a word is full (a
    /// /12 service range has a million offsets).
    private func firstFree(in range: Range<Int>) -> Int? {
        var i = range.lowerBound
        while i < range.upperBound {
            if i & 63 == 0, words[i >> 6] == .max {
                i += 64
                continue
            }
            if !has(i) { return i }
            i += 1
        }
        return nil
    }
}

/// An IPv4 service CIDR such as 10.96.0.0/12.
public struct ServiceIPRange: Sendable, Equatable, CustomStringConvertible {
    /// The network address.
    public let base: UInt32
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`; nil for anything else (IPv6 service ranges are not supported).
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[1]), (1...30).contains(n), let ip = Self.parse(String(parts[0])) else { return nil }
        prefixLength = n
        base = ip & ~UInt32((UInt64(1) << UInt64(32 - n)) - 1)
    }

    init(base: UInt32, prefixLength: Int) {
        self.base = base
        self.prefixLength = prefixLength
    }

    /// Number of addresses, network and broadcast included.
    var size: Int { 1 << (32 - prefixLength) }

    /// The range's first usable address (10.96.0.1), kept for the `kubernetes` Service.
    public var firstAddress: String { address(at: 1) }

    public var description: String { "\(address(at: 0))/\(prefixLength)" }

    /// Offset of `ip` inside the range; nil when it is not an IPv4 address of the range or is
    /// its network or broadcast address.
    func offset(of ip: String) -> Int? {
        guard let v = Self.parse(ip), v >= base else { return nil }
        let off = Int(v - base)
        return off > 0 && off < size - 1 ? off : nil
    }

    func address(at offset: Int) -> String {
        let v = base &+ UInt32(truncatingIfNeeded: offset)
        return "\(v >> 24).\((v >> 16) & 0xFF).\((v >> 8) & 0xFF).\(v & 0xFF)"
    }

    static func parse(_ s: String) -> UInt32? {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard !o.isEmpty, o.count <= 3, o.allSatisfy(\.isASCII), let b = UInt8(o) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }
}

/// Cluster IPs of one service CIDR. Not thread-safe by itself: `ServiceAllocations` holds it
/// under its lock.
struct ServiceIPAllocator: Sendable {
    enum Outcome: Equatable { case allocated, taken, outOfRange }

    let range: ServiceIPRange
    private var bitmap: AllocationBitmap

    init(range: ServiceIPRange) {
        self.range = range
        bitmap = AllocationBitmap(size: range.size)
    }

    var allocatedCount: Int { bitmap.count }

    func isAllocated(_ ip: String) -> Bool { range.offset(of: ip).map(bitmap.has) ?? false }

    /// Takes a requested address.
    mutating func allocate(_ ip: String) -> Outcome {
        guard let off = range.offset(of: ip) else { return .outOfRange }
        return bitmap.allocate(off) ? .allocated : .taken
    }

    /// Takes a free address; never the first one, which belongs to the `kubernetes` Service.
    mutating func allocateNext() -> String? {
        bitmap.allocateNext(in: 2..<(range.size - 1)).map(range.address(at:))
    }

    mutating func release(_ ip: String) {
        if let off = range.offset(of: ip) { bitmap.release(off) }
    }
}
