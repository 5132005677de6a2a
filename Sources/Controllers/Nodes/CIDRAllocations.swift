import KubeModel
import NIOConcurrencyHelpers

/// The node IPAM controller's table of which subnet of its range each node holds: filled from
/// node events (CIDRs the nodes show) and from allocations still on their way, so that an
/// allocation is a scan of the range rather than of every node.
final class CIDRAllocations: Sendable {
    private struct State {
        var byNode: [String: Set<Int>] = [:]
        var holders: [Int: Set<String>] = [:]
        /// Nodes told the range is exhausted (one event each), woken when a node goes away.
        var exhausted: Set<String> = []

        mutating func release(_ name: String) {
            for i in byNode.removeValue(forKey: name) ?? [] {
                holders[i]?.remove(name)
                if holders[i]?.isEmpty == true { holders[i] = nil }
            }
        }

        mutating func hold(_ i: Int, for name: String) {
            byNode[name, default: []].insert(i)
            holders[i, default: []].insert(name)
        }
    }

    let range: CIDRRange
    private let state = NIOLockedValueBox(State())

    init(range: CIDRRange) { self.range = range }

    /// Records the CIDRs `node` shows; a node showing none keeps an allocation in flight.
    func observe(_ node: JSONValue) {
        guard let name = node.name else { return }
        let indices = NodeIPAMController.cidrs(of: node).compactMap(range.index(of:))
        guard !indices.isEmpty else { return }
        state.withLockedValue { s in
            s.release(name)
            s.exhausted.remove(name)
            for i in indices { s.hold(i, for: name) }
        }
    }

    /// The node is gone (or its allocation failed): its subnets are free again.
    func release(_ name: String) {
        state.withLockedValue { s in
            s.release(name)
            s.exhausted.remove(name)
        }
    }

    /// The subnet held for `name`, or the lowest free one, now held for it; nil when the range
    /// is exhausted.
    func allocate(_ name: String) -> Int? {
        state.withLockedValue { s in
            if let mine = s.byNode[name]?.min() { return mine }
            guard let free = (0..<range.count).first(where: { s.holders[$0] == nil }) else { return nil }
            s.hold(free, for: name)
            return free
        }
    }

    /// Marks `name` as having found the range exhausted; true the first time (until it gets a
    /// subnet or a node goes away).
    func markExhausted(_ name: String) -> Bool {
        state.withLockedValue { $0.exhausted.insert(name).inserted }
    }

    /// The nodes waiting for a free subnet, forgetting them (they are about to be looked at).
    func takeExhausted() -> [String] {
        state.withLockedValue { s in
            defer { s.exhausted.removeAll() }
            return Array(s.exhausted)
        }
    }
}
