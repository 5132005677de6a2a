import Foundation

extension CronSchedule {
    /// The first activation strictly after `date` in `zone`, or nil when none comes within
    /// five years (e.g. `0 0 30 2 *`). Follows robfig/cron's search on the wall clock: a
    /// time that does not exist on a spring-forward day is skipped; hours are stepped in
    /// absolute time, so an hour repeated on a fall-back day is met again.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        switch kind {
        case .every(let seconds):
            return Date(timeIntervalSince1970: (date.timeIntervalSince1970 + Double(seconds)).rounded(.down))
        case .fields(let minute, let hour, let dom, let month, let dow):
            return Search(calendar: calendar, minute: minute, hour: hour, dom: dom, month: month, dow: dow).next(after: date)
        }
    }

    private struct Search {
        let calendar: Calendar
        let minute, hour, dom, month, dow: CronField

        func parts(_ t: Date) -> DateComponents {
            calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: t)
        }

        func wall(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Date? {
            calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: 0))
        }

        func dayMatches(_ c: DateComponents) -> Bool {
            let domMatch = dom.matches(c.day ?? 0)
            let dowMatch = dow.matches((c.weekday ?? 1) - 1)
            if dom.isStar || dow.isStar { return domMatch && dowMatch }
            return domMatch || dowMatch
        }

        func next(after date: Date) -> Date? {
            // Start at the next whole second.
            var t = Date(timeIntervalSince1970: (date.timeIntervalSince1970 + 1).rounded(.down))
            var added = false
            guard let startYear = parts(t).year else { return nil }
            let yearLimit = startYear + 5
            wrap: while true {
                var c = parts(t)
                guard let year = c.year, year <= yearLimit else { return nil }
                while !month.matches(c.month ?? 0) {
                    if !added {
                        added = true
                        guard let d = wall(year, c.month ?? 1, 1) else { return nil }
                        t = d
                    }
                    guard let d = calendar.date(byAdding: .month, value: 1, to: t) else { return nil }
                    t = d
                    c = parts(t)
                    if c.month == 1 { continue wrap }
                }
                while !dayMatches(c) {
                    if !added {
                        added = true
                        guard let d = wall(c.year ?? 0, c.month ?? 1, c.day ?? 1) else { return nil }
                        t = d
                    }
                    guard let d = calendar.date(byAdding: .day, value: 1, to: t) else { return nil }
                    t = d
                    // Midnight may not exist (or repeat) on a DST day: get back to 00:xx.
                    let h = parts(t).hour ?? 0
                    if h != 0 { t = t.addingTimeInterval(TimeInterval(h > 12 ? (24 - h) * 3600 : -h * 3600)) }
                    c = parts(t)
                    if c.day == 1 { continue wrap }
                }
                while !hour.matches(c.hour ?? 0) {
                    if !added {
                        added = true
                        t = t.addingTimeInterval(-TimeInterval((c.minute ?? 0) * 60 + (c.second ?? 0)))
                    }
                    t = t.addingTimeInterval(3600)
                    c = parts(t)
                    if c.hour == 0 { continue wrap }
                }
                while !minute.matches(c.minute ?? 0) {
                    if !added {
                        added = true
                        t = t.addingTimeInterval(-TimeInterval(c.second ?? 0))
                    }
                    t = t.addingTimeInterval(60)
                    c = parts(t)
                    if c.minute == 0 { continue wrap }
                }
                // Seconds: only second 0 matches.
                if (c.second ?? 0) != 0 {
                    t = t.addingTimeInterval(TimeInterval(60 - (c.second ?? 0)))
                    added = true
                    if parts(t).minute == 0 { continue wrap }
                    continue wrap
                }
                return t
            }
        }
    }
}
