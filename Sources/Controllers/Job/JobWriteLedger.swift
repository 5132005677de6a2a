import Foundation

/// What the job controller wrote that its caches may not show yet: the resourceVersion of
/// each Job's last status write, and the pods whose tracking finalizer it removed. A Job
/// whose cached copy is older than its last write waits for the newer one; a pod still
/// showing a removed finalizer is not counted twice.
actor JobWriteLedger {
    private var statusVersions: [String: UInt64] = [:]
    private var removedFinalizers: [String: Set<String>] = [:]

    func recordStatusWrite(_ key: String, resourceVersion: String?) {
        if let rv = resourceVersion.flatMap(UInt64.init) { statusVersions[key] = rv }
    }

    /// Whether the cached Job at `resourceVersion` is older than what was written.
    func isStale(_ key: String, resourceVersion: String?) -> Bool {
        guard let written = statusVersions[key], let seen = resourceVersion.flatMap(UInt64.init) else { return false }
        return seen < written
    }

    func recordFinalizerRemoved(_ key: String, uid: String) { removedFinalizers[key, default: []].insert(uid) }

    /// The pods whose finalizer removal the cache has not shown yet; forgets the rest.
    func pendingFinalizerRemovals(_ key: String, stillHolding: Set<String>) -> Set<String> {
        let pending = (removedFinalizers[key] ?? []).intersection(stillHolding)
        removedFinalizers[key] = pending.isEmpty ? nil : pending
        return pending
    }

    func forget(_ key: String) {
        statusVersions[key] = nil
        removedFinalizers[key] = nil
    }
}
