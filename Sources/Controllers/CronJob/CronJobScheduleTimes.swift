import Foundation
import KubeModel

/// Which scheduled time a CronJob should start now, as Kubernetes' cronjob controller
/// decides: the most recent time of the schedule since the last one it started (or its
/// creation), not earlier than `startingDeadlineSeconds` ago, and the time after now.
struct CronJobScheduleTimes: Equatable {
    /// The most recent scheduled time not yet started, if any.
    var mostRecent: Date?
    /// The first scheduled time after now (nil when the schedule never comes again).
    var next: Date?
    /// Whether more than 100 start times were missed (the controller warns).
    var tooManyMissed: Bool

    static let missedLimit = 100

    init(schedule: CronSchedule, zone: TimeZone, earliest: Date, now: Date) {
        var latest: Date?
        var missed = 0
        var largestGap: TimeInterval = 0
        var cursor = schedule.next(after: earliest, in: zone)
        var previous = earliest
        while let t = cursor, t <= now {
            latest = t
            missed += 1
            largestGap = max(largestGap, t.timeIntervalSince(previous))
            previous = t
            if missed > Self.missedLimit {
                // Skip ahead instead of walking through years of minutes.
                let restart = now.addingTimeInterval(-2 * largestGap)
                if restart > t { cursor = schedule.next(after: restart, in: zone); continue }
            }
            cursor = schedule.next(after: t, in: zone)
        }
        mostRecent = latest
        next = cursor
        tooManyMissed = missed > Self.missedLimit
    }
}
