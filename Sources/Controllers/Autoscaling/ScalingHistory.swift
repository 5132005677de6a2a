import Foundation

/// What one autoscaler remembers between syncs, as Kubernetes' controller does in memory:
/// its recent recommendations (for stabilization) and its recent scale events (for the
/// rate-limiting policies). Lost on restart, as upstream.
struct ScalingHistory: Sendable, Equatable {
    struct Recommendation: Sendable, Equatable {
        var replicas: Int32
        var timestamp: Date
    }

    struct ScaleEvent: Sendable, Equatable {
        /// Pods added (scale-up list) or removed (scale-down list); positive.
        var change: Int32
        var timestamp: Date
    }

    var recommendations: [Recommendation] = []
    var scaleUpEvents: [ScaleEvent] = []
    var scaleDownEvents: [ScaleEvent] = []

    /// Records a recommendation, reusing the slot of one older than `cutoff` if there is one.
    mutating func record(recommendation replicas: Int32, at now: Date, replacingOlderThan cutoff: Date) {
        let r = Recommendation(replicas: replicas, timestamp: now)
        if let i = recommendations.lastIndex(where: { $0.timestamp < cutoff }) {
            recommendations[i] = r
        } else {
            recommendations.append(r)
        }
    }

    /// Records a rescale from `previous` to `new` replicas, forgetting events older than the
    /// longest policy period of that direction.
    mutating func recordScale(from previous: Int32, to new: Int32, behavior: ScalingBehavior, at now: Date) {
        if new > previous {
            let keep = now.addingTimeInterval(-TimeInterval(behavior.scaleUp.longestPeriodSeconds))
            scaleUpEvents.removeAll { $0.timestamp <= keep }
            scaleUpEvents.append(ScaleEvent(change: new - previous, timestamp: now))
        } else if new < previous {
            let keep = now.addingTimeInterval(-TimeInterval(behavior.scaleDown.longestPeriodSeconds))
            scaleDownEvents.removeAll { $0.timestamp <= keep }
            scaleDownEvents.append(ScaleEvent(change: previous - new, timestamp: now))
        }
    }

    /// Replicas changed by `events` within the last `periodSeconds`.
    static func change(in events: [ScaleEvent], periodSeconds: Int32, now: Date) -> Int32 {
        let cutoff = now.addingTimeInterval(-TimeInterval(periodSeconds))
        return events.filter { $0.timestamp > cutoff }.reduce(0) { $0 + $1.change }
    }
}
