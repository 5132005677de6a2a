import Foundation

/// Turns the replica count the metrics propose into the one the autoscaler sets, as
/// Kubernetes does: stabilization over recent recommendations, then min/maxReplicas and the
/// rate limits (the `behavior` policies over the scale events of their periods, or without
/// `behavior` the older fixed limit of max(2×current, 4) on the way up). Pure: the history and
/// the time are passed in.
enum ReplicaNormalizer {
    /// A condition's reason and message.
    struct Note: Sendable, Equatable {
        var reason: String
        var message: String
    }

    /// The normalized count and what the AbleToScale and ScalingLimited conditions say.
    struct Result: Sendable, Equatable {
        var replicas: Int32
        var ableToScale: Note
        /// ScalingLimited is True when `replicas` differs from the stabilized recommendation.
        var limited: Bool
        var limit: Note
    }

    static let readyForNewScale = Note(reason: "ReadyForNewScale", message: "recommended size matches current size")
    static let scaleDownStabilized = Note(reason: "ScaleDownStabilized",
                                          message: "recent recommendations were higher than current one, applying the highest recent recommendation")
    static let scaleUpStabilized = Note(reason: "ScaleUpStabilized",
                                        message: "recent recommendations were lower than current one, applying the lowest recent recommendation")
    static let withinRange = Note(reason: "DesiredWithinRange", message: "the desired count is within the acceptable range")
    static let tooFew = Note(reason: "TooFewReplicas", message: "the desired replica count is less than the minimum replica count")
    static let tooMany = Note(reason: "TooManyReplicas", message: "the desired replica count is more than the maximum replica count")
    static let scaleUpLimit = Note(reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate")
    static let scaleDownLimit = Note(reason: "ScaleDownLimit", message: "the desired replica count is decreasing faster than the maximum scale rate")

    /// Without `behavior`: the highest recommendation of the downscale stabilization window,
    /// then min/max and at most max(2×current, 4) replicas.
    static func normalizeWithoutBehavior(current: Int32, desired: Int32, minReplicas: Int32, maxReplicas: Int32,
                                         downscaleStabilization: TimeInterval, history: inout ScalingHistory, now: Date) -> Result {
        let cutoff = now.addingTimeInterval(-downscaleStabilization)
        var stabilized = desired
        for r in history.recommendations where r.timestamp >= cutoff { stabilized = max(stabilized, r.replicas) }
        history.record(recommendation: desired, at: now, replacingOlderThan: cutoff)
        let able = stabilized != desired ? scaleDownStabilized : readyForNewScale

        let scaleUpLimit = max(2 * current, 4)
        let maximum = min(maxReplicas, scaleUpLimit)
        let limitNote = maxReplicas > scaleUpLimit ? Self.scaleUpLimit : tooMany
        var replicas = stabilized, note = withinRange
        if stabilized < minReplicas {
            (replicas, note) = (minReplicas, tooFew)
        } else if stabilized > maximum {
            (replicas, note) = (maximum, limitNote)
        }
        return Result(replicas: replicas, ableToScale: able, limited: replicas != stabilized, limit: note)
    }

    /// With `behavior`: the recommendation held between the lowest of the scale-up window and
    /// the highest of the scale-down window, then the policies' rate limits and min/max.
    static func normalize(current: Int32, desired: Int32, minReplicas: Int32, maxReplicas: Int32,
                          behavior: ScalingBehavior, history: inout ScalingHistory, now: Date) -> Result {
        let upCutoff = now.addingTimeInterval(-TimeInterval(behavior.scaleUp.stabilizationWindowSeconds))
        let downCutoff = now.addingTimeInterval(-TimeInterval(behavior.scaleDown.stabilizationWindowSeconds))
        var upRecommendation = desired, downRecommendation = desired
        for r in history.recommendations {
            if r.timestamp > upCutoff { upRecommendation = min(upRecommendation, r.replicas) }
            if r.timestamp > downCutoff { downRecommendation = max(downRecommendation, r.replicas) }
        }
        let stabilized = min(max(current, upRecommendation), downRecommendation)
        history.record(recommendation: desired, at: now, replacingOlderThan: min(upCutoff, downCutoff))
        let able = stabilized == desired ? readyForNewScale : (desired >= current ? scaleUpStabilized : scaleDownStabilized)

        var replicas = stabilized, note = withinRange
        if stabilized > current {
            let limit = max(scaleUpLimit(current: current, history: history, rules: behavior.scaleUp, now: now), current)
            let maximum = min(maxReplicas, limit)
            if stabilized > maximum { (replicas, note) = (maximum, maxReplicas > limit ? Self.scaleUpLimit : tooMany) }
        } else if stabilized < current {
            let limit = min(scaleDownLimit(current: current, history: history, rules: behavior.scaleDown, now: now), current)
            let minimum = max(minReplicas, limit)
            if stabilized < minimum { (replicas, note) = (minimum, minReplicas < limit ? Self.scaleDownLimit : tooFew) }
        }
        return Result(replicas: replicas, ableToScale: able, limited: replicas != stabilized, limit: note)
    }

    /// The most replicas the scale-up policies allow now: each policy measures from the count
    /// at the start of its period.
    static func scaleUpLimit(current: Int32, history: ScalingHistory, rules: ScalingBehavior.Rules, now: Date) -> Int32 {
        if rules.selectPolicy == .disabled { return current }
        var result: Int32? = nil
        for p in rules.policies {
            let start = periodStart(current: current, history: history, periodSeconds: p.periodSeconds, now: now)
            let proposed: Int32 = switch p.kind {
            case .pods: start + p.value
            case .percent: ReplicaCalculator.ceil(Double(start) * (1 + Double(p.value) / 100))
            }
            result = result.map { rules.selectPolicy == .min ? min($0, proposed) : max($0, proposed) } ?? proposed
        }
        return result ?? current
    }

    /// The fewest replicas the scale-down policies allow now.
    static func scaleDownLimit(current: Int32, history: ScalingHistory, rules: ScalingBehavior.Rules, now: Date) -> Int32 {
        if rules.selectPolicy == .disabled { return current }
        var result: Int32? = nil
        for p in rules.policies {
            let start = periodStart(current: current, history: history, periodSeconds: p.periodSeconds, now: now)
            let proposed: Int32 = switch p.kind {
            case .pods: start - p.value
            case .percent: Int32(Double(start) * (1 - Double(p.value) / 100))
            }
            result = result.map { rules.selectPolicy == .min ? max($0, proposed) : min($0, proposed) } ?? proposed
        }
        return result ?? current
    }

    static func periodStart(current: Int32, history: ScalingHistory, periodSeconds: Int32, now: Date) -> Int32 {
        current - ScalingHistory.change(in: history.scaleUpEvents, periodSeconds: periodSeconds, now: now)
            + ScalingHistory.change(in: history.scaleDownEvents, periodSeconds: periodSeconds, now: now)
    }
}
