import NIOConcurrencyHelpers

/// Which objects name which owner uid in their ownerReferences, kept from the informers'
/// events (the owner half of Kubernetes' garbage collector graph), so that finding an owner's
/// dependents is a lookup rather than a scan of every cached object: deleting thousands of
/// pods would otherwise cost a scan of the namespace per pod.
final class DependentsIndex: Sendable {
    /// A dependent: its resource's plural and its cache key.
    struct Entry: Hashable, Sendable {
        let plural: String
        let key: String
    }

    private struct State {
        var byOwner: [String: Set<Entry>] = [:]
        var owners: [Entry: [String]] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Records that `entry` now names exactly `ownerUIDs` (none removes it).
    func set(_ entry: Entry, ownerUIDs: [String]) {
        state.withLockedValue { s in
            for uid in s.owners.removeValue(forKey: entry) ?? [] {
                s.byOwner[uid]?.remove(entry)
                if s.byOwner[uid]?.isEmpty == true { s.byOwner[uid] = nil }
            }
            guard !ownerUIDs.isEmpty else { return }
            s.owners[entry] = ownerUIDs
            for uid in ownerUIDs { s.byOwner[uid, default: []].insert(entry) }
        }
    }

    /// The objects naming `uid` as an owner.
    func dependents(of uid: String) -> [Entry] {
        state.withLockedValue { Array($0.byOwner[uid] ?? []) }
    }
}
