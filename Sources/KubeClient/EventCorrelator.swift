import Foundation
import NIOConcurrencyHelpers

/// Remembers the events a recorder wrote so that a repeat (same object, type, reason and
/// message) within `window` bumps the first one's `count` and `lastTimestamp` instead of
/// writing another, as client-go's event correlator does: `kubectl describe` then shows
/// "(x12 over 15s)" for a controller that repeats itself every sync.
public final class EventCorrelator: Sendable {
    struct Seen {
        var name: String
        var count: Int64
        var first: Date
    }

    let window: TimeInterval
    private let seen = NIOLockedValueBox<[String: Seen]>([:])

    /// A correlator merging repeats within `window` seconds (client-go: 10 minutes).
    public init(window: TimeInterval = 600) { self.window = window }

    /// The event to bump for `key`, with its new count; nil when it is new or too old.
    func repeatOf(_ key: String, now: Date) -> (name: String, count: Int64)? {
        seen.withLockedValue { s in
            guard var e = s[key] else { return nil }
            guard now.timeIntervalSince(e.first) < window else {
                s[key] = nil
                return nil
            }
            e.count += 1
            s[key] = e
            return (e.name, e.count)
        }
    }

    func remember(_ key: String, name: String, now: Date) {
        seen.withLockedValue { s in
            // Bounded: forget everything past the window before growing.
            if s.count > 4096 { s = s.filter { now.timeIntervalSince($0.value.first) < window } }
            s[key] = Seen(name: name, count: 1, first: now)
        }
    }

    func forget(_ key: String) { _ = seen.withLockedValue { $0.removeValue(forKey: key) } }
}
