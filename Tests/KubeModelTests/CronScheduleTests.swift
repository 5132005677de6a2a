import Foundation
import KubeModel
import Testing

/// The cron syntax and next-time search as robfig/cron's standard parser (Kubernetes'
/// CronJob schedules), including DST days in a time zone.
@Suite struct CronScheduleTests {
    let utc = TimeZone(identifier: "UTC")!
    let newYork = TimeZone(identifier: "America/New_York")!

    func date(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    func next(_ spec: String, after: String, in zone: TimeZone? = nil) throws -> Date? {
        try CronSchedule(parsing: spec).next(after: date(after), in: zone ?? utc)
    }

    @Test func fieldsRangesStepsListsAndNames() throws {
        #expect(try next("*/15 * * * *", after: "2012-07-09T14:45:00Z") == date("2012-07-09T15:00:00Z"))
        #expect(try next("*/15 * * * *", after: "2012-07-09T14:59:59Z") == date("2012-07-09T15:00:00Z"))
        #expect(try next("20-35/15 * * * *", after: "2012-07-09T15:45:00Z") == date("2012-07-09T16:20:00Z"))
        #expect(try next("5/15 * * * *", after: "2012-07-09T15:06:00Z") == date("2012-07-09T15:20:00Z"))
        #expect(try next("0 0 9 apr-oct ?", after: "2012-07-09T23:35:00Z") == date("2012-08-09T00:00:00Z"))
        #expect(try next("0 0 * feb mon", after: "2012-07-09T23:35:00Z") == date("2013-02-04T00:00:00Z"))
        #expect(try next("30 8 1,15 * *", after: "2012-07-09T00:00:00Z") == date("2012-07-15T08:30:00Z"))
        // Leap day, and a date that never comes.
        #expect(try next("0 0 29 feb ?", after: "2012-07-09T23:35:00Z") == date("2016-02-29T00:00:00Z"))
        #expect(try next("0 0 30 feb *", after: "2012-07-09T23:35:00Z") == nil)
    }

    @Test func dayOfMonthAndDayOfWeek() throws {
        // Both restricted: either may match.
        #expect(try next("0 0 1,15 * sun", after: "2012-07-09T00:00:00Z") == date("2012-07-15T00:00:00Z"))
        #expect(try next("0 0 1,15 * sun", after: "2012-07-16T00:00:00Z") == date("2012-07-22T00:00:00Z"))
        // One is a star: both must.
        #expect(try next("0 0 * * mon", after: "2012-07-15T00:00:00Z") == date("2012-07-16T00:00:00Z"))
        // A step is not a star: odd days or Sundays.
        #expect(try next("0 0 */2 * sun", after: "2012-07-01T00:00:00Z") == date("2012-07-03T00:00:00Z"))
        #expect(try next("0 0 */2 * sun", after: "2012-07-07T00:00:00Z") == date("2012-07-08T00:00:00Z"))
    }

    @Test func macros() throws {
        #expect(try next("@hourly", after: "2012-07-09T15:04:00Z") == date("2012-07-09T16:00:00Z"))
        #expect(try next("@daily", after: "2012-07-09T15:04:00Z") == date("2012-07-10T00:00:00Z"))
        #expect(try next("@midnight", after: "2012-07-09T15:04:00Z") == date("2012-07-10T00:00:00Z"))
        #expect(try next("@weekly", after: "2012-07-09T15:04:00Z") == date("2012-07-15T00:00:00Z"))
        #expect(try next("@monthly", after: "2012-07-09T15:04:00Z") == date("2012-08-01T00:00:00Z"))
        #expect(try next("@yearly", after: "2012-07-09T15:04:00Z") == date("2013-01-01T00:00:00Z"))
        #expect(try next("@annually", after: "2012-07-09T15:04:00Z") == date("2013-01-01T00:00:00Z"))
        #expect(try next("@every 90s", after: "2012-07-09T15:04:00Z") == date("2012-07-09T15:05:30Z"))
    }

    @Test func parseErrorsReadAsRobfigs() {
        func error(_ spec: String) -> String? {
            do { _ = try CronSchedule(parsing: spec); return nil } catch { return error.description }
        }
        #expect(error("* * *") == "expected exactly 5 fields, found 3: [* * *]")
        #expect(error("60 * * * *") == "end of range (60) above maximum (59): 60")
        #expect(error("* * 0 * *") == "beginning of range (0) below minimum (1): 0")
        #expect(error("5-1 * * * *") == "beginning of range (5) beyond end of range (1): 5-1")
        #expect(error("*/0 * * * *") == "step of range should be a positive number: */0")
        #expect(error("@fortnightly") == "unrecognized descriptor: @fortnightly")
        #expect(error("* * * foo *")?.hasPrefix("failed to parse int from foo") == true)
        #expect(error("CRON_TZ=UTC 0 * * * *") != nil)
        #expect(error("* * * * 7") != nil)  // robfig's day of week is 0-6
        #expect(error("0 2 * * *") == nil)
    }

    @Test func springForwardSkipsTheMissingTime() throws {
        // 2012-03-11 02:00 EST became 03:00 EDT: a 02:30 schedule does not run that day.
        #expect(try next("30 2 11 mar ?", after: "2012-03-11T05:00:00Z", in: newYork) == date("2013-03-11T06:30:00Z"))
        // A daily 02:30 runs the next day instead.
        #expect(try next("30 2 * * *", after: "2012-03-10T08:00:00Z", in: newYork) == date("2012-03-12T06:30:00Z"))
        // Times around the gap are unaffected.
        #expect(try next("30 3 * * *", after: "2012-03-11T05:00:00Z", in: newYork) == date("2012-03-11T07:30:00Z"))
    }

    @Test func fallBackMeetsTheRepeatedHourAgain() throws {
        // 2012-11-04 02:00 EDT became 01:00 EST. robfig steps hours in absolute time, so the
        // repeated 01:30 is met in EDT and again in EST.
        let first = try next("30 1 4 nov ?", after: "2012-11-04T04:00:00Z", in: newYork)
        #expect(first == date("2012-11-04T05:30:00Z"))  // 01:30 EDT
        #expect(try next("30 1 4 nov ?", after: "2012-11-04T05:45:00Z", in: newYork) == date("2012-11-04T06:30:00Z"))  // 01:30 EST
        // An hourly schedule meets 01:00 twice, and skips nothing in spring but the gap.
        #expect(try next("0 * * * *", after: "2012-11-04T05:00:00Z", in: newYork) == date("2012-11-04T06:00:00Z"))
        #expect(try next("0 * * * *", after: "2012-03-11T06:00:00Z", in: newYork) == date("2012-03-11T07:00:00Z"))
        // 02:30 exists once (EST).
        #expect(try next("30 2 4 nov ?", after: "2012-11-04T04:00:00Z", in: newYork) == date("2012-11-04T07:30:00Z"))
    }

    @Test func jobIndexesRoundTrip() {
        let set = JobIndexes.parse("1,3-5,7", below: 10)
        #expect(set == IndexSet([1, 3, 4, 5, 7]))
        #expect(JobIndexes.format(IndexSet([0, 1, 2, 4, 6, 7])) == "0-2,4,6-7")
        #expect(JobIndexes.parse("3,1", below: 10) == nil)
        #expect(JobIndexes.parse("1-12", below: 10) == nil)
        #expect(JobIndexes.parse("", below: 10) == IndexSet())
    }
}
