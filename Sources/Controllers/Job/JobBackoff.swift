import Foundation
import KubeModel

/// The delay before a Job replaces failed pods: 10 s after the first failure in a row,
/// doubling with each further one, at most 6 minutes (Kubernetes' job back-off). Read from
/// the Job's finished pods, so it survives a controller restart.
enum JobBackoff {
    static let base: TimeInterval = 10
    static let cap: TimeInterval = 360

    /// When creating pods may resume, or nil when it may now.
    static func readyAt(finished pods: [(pod: JSONValue, failed: Bool)]) -> Date? {
        var failuresInARow = 0
        var lastFailure: Date?
        for entry in pods.sorted(by: { finishTime($0.pod) < finishTime($1.pod) }) {
            if entry.failed {
                failuresInARow += 1
                lastFailure = finishTime(entry.pod)
            } else {
                failuresInARow = 0
                lastFailure = nil
            }
        }
        guard failuresInARow > 0, let lastFailure else { return nil }
        return lastFailure.addingTimeInterval(delay(afterFailures: failuresInARow))
    }

    static func delay(afterFailures n: Int) -> TimeInterval {
        guard n > 0 else { return 0 }
        let exponent = min(n - 1, 16)
        return min(cap, base * pow(2, Double(exponent)))
    }

    /// When the pod finished: its containers' last finish, else its last condition change.
    static func finishTime(_ pod: JSONValue) -> Date {
        let statuses = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [])
            + (pod[path: ["status", "initContainerStatuses"]]?.arrayValue ?? [])
        let finished = statuses.compactMap { $0[path: ["state", "terminated", "finishedAt"]]?.stringValue.flatMap(Timestamp.parse) }
        if let last = finished.max() { return last }
        let transitions = (pod[path: ["status", "conditions"]]?.arrayValue ?? [])
            .compactMap { $0["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse) }
        return transitions.max() ?? ObjectRules.creationTime(pod) ?? .distantPast
    }
}
