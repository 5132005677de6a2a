import Foundation

/// Creations and deletions a controller has asked for but not yet seen in its informer cache
/// (Kubernetes' `ControllerExpectations`). Until they are seen, the cache under-counts (or
/// over-counts) pods, and acting on it would create or delete too many; so a controller skips
/// its pod-count step for a key whose expectations are pending. They expire after `timeout`, in
/// case an event was missed.
actor Expectations {
    private struct Entry {
        var adds: Int
        var deletes: Int
        var setAt: Date
    }

    private var entries: [String: Entry] = [:]
    private let timeout: TimeInterval
    private let now: @Sendable () -> Date

    init(timeout: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() }) {
        self.timeout = timeout
        self.now = now
    }

    /// Whether the cache has caught up with our writes for `key` (or they expired).
    func satisfied(_ key: String) -> Bool {
        let t = now()
        guard let entry = entries[key] else { return true }
        if entry.adds <= 0 && entry.deletes <= 0 { return true }
        return t.timeIntervalSince(entry.setAt) > timeout
    }

    /// Records writes about to be made for `key`, replacing what was there.
    func expect(_ key: String, adds: Int = 0, deletes: Int = 0) {
        let t = now()
        entries[key] = Entry(adds: adds, deletes: deletes, setAt: t)
    }

    /// A creation was seen in the cache (or will never happen because it failed).
    func creationObserved(_ key: String) {
        entries[key]?.adds -= 1
    }

    /// A deletion was seen in the cache (or will never happen because it failed).
    func deletionObserved(_ key: String) {
        entries[key]?.deletes -= 1
    }

    /// Forgets `key` (its owner is gone).
    func remove(_ key: String) {
        entries[key] = nil
    }
}
