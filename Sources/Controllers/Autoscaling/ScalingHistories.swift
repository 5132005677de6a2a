import Foundation
import NIOConcurrencyHelpers

/// The scaling histories of all autoscalers, by `namespace/name`, shared by the workers (one
/// worker at a time per key).
final class ScalingHistories: Sendable {
    private let state = NIOLockedValueBox<[String: ScalingHistory]>([:])

    /// Runs `body` on the history of `key`, creating an empty one first.
    func update<T>(_ key: String, _ body: (inout ScalingHistory) -> T) -> T {
        state.withLockedValue { body(&$0[key, default: ScalingHistory()]) }
    }

    func remove(_ key: String) { _ = state.withLockedValue { $0.removeValue(forKey: key) } }
}
