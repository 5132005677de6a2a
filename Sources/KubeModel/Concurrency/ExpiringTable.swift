import Foundation

/// A lock-protected table whose entries each end at their own time, holding at most
/// `capacity`: for answers worth remembering briefly (a token's authentication, a ConfigMap
/// known to exist) and cheap to ask again. A full table first drops its expired entries, then,
/// if still full, the tenth that would expire soonest, so a flood of distinct keys costs one
/// sort per `capacity / 10` inserts, not one per insert.
public final class ExpiringTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    struct Entry: Sendable {
        var value: Value
        var until: Date
    }

    public let capacity: Int
    private let entries = Locked<[Key: Entry]>([:])

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The value and when it ends, if remembered and not yet ended at `now`.
    public func lookup(_ key: Key, now: Date) -> (value: Value, until: Date)? {
        guard let hit = entries.withLock({ $0[key] }), hit.until > now else { return nil }
        return (hit.value, hit.until)
    }

    /// Remembers `value` until `until` (nothing when that is not after `now`).
    public func insert(_ key: Key, _ value: Value, until: Date, now: Date) {
        guard until > now else { return }
        let capacity = self.capacity
        entries.withLock { table in
            if table[key] == nil, table.count >= capacity {
                table = table.filter { $0.value.until > now }
                if table.count >= capacity {
                    let drop = max(1, capacity / 10)
                    for (old, _) in table.sorted(by: { $0.value.until < $1.value.until }).prefix(drop) { table[old] = nil }
                }
            }
            table[key] = Entry(value: value, until: until)
        }
    }

    /// Entries held, expired ones included until a full table sweeps them.
    public var count: Int { entries.withLock { $0.count } }
}
