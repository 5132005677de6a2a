import NIOConcurrencyHelpers

/// Pods the last attempt found no node for (Kubernetes' unschedulable pool): a change that may
/// open room (a node added or changed, a bound pod gone) queues these again at once, instead
/// of every pending pod of the cluster; they are also retried on their backoff.
final class UnschedulablePods: Sendable {
    private let keys = NIOLockedValueBox<Set<String>>([])

    func insert(_ key: String) { _ = keys.withLockedValue { $0.insert(key) } }

    func remove(_ key: String) { _ = keys.withLockedValue { $0.remove(key) } }

    /// Every pod waiting for room.
    var all: [String] { keys.withLockedValue { Array($0) } }
}
