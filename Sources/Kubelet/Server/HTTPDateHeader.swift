import Foundation
import Synchronization

/// The `Date` response header (RFC 9110's IMF-fixdate), formatted at most once a second for
/// the whole process. Hummingbird's `Application` keeps its own copy fresh with a one-second
/// timer per server: a fleet of 5,000 fake nodes woke the task pool 5,000 times a second for
/// a header its scrapers hardly read.
enum HTTPDateHeader {
    private static let cache = Mutex<(second: time_t, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static var current: String {
        let now = time(nil)
        return cache.withLock { cached in
            if cached.second != now { cached = (now, format(now)) }
            return cached.text
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` for a time in seconds since the epoch.
    static func format(_ seconds: time_t) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let day = days[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(day), \(two(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
