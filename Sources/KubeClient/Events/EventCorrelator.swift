import Foundation
import NIOConcurrencyHelpers

/// Turns a component's stream of events into the writes client-go's event correlator would
/// make, so a controller or kubelet that repeats itself costs a patch, not a new object:
/// - an exact repeat (same object, type, reason and message) within `window` bumps the first
///   event's `count` and `lastTimestamp`; `kubectl describe` shows "(x12 over 15s)";
/// - once `maxSimilar` different messages of the same object, type and reason arrive within
///   `window`, the rest are folded into one event whose message is prefixed
///   "(combined from similar events): ";
/// - each source may write `burst` events about one object at once and then one per `refill`
///   (a token bucket per source and object, whatever the reason or message, as client-go's
///   spam filter); beyond that they are dropped. A controller creating 10,000 pods for one
///   ReplicaSet thus records 25 events about it, not 10,000 patches of one combined event.
public final class EventCorrelator: Sendable {
    /// What to write for one recorded event.
    enum Decision: Equatable {
        /// Rate-limited: write nothing.
        case drop
        /// Patch the earlier event `name`, remembered under `key`, to this count and message.
        case bump(name: String, count: Int64, message: String, key: String)
        /// Create a new event with this message; remember it under `key`.
        case create(message: String, key: String)
    }

    struct Seen {
        var name: String
        var count: Int64
        var first: Date
    }

    struct Similar {
        var messages: Set<String>
        var first: Date
    }

    struct Bucket {
        var tokens: Double
        var last: Date
    }

    struct State {
        var seen: [String: Seen] = [:]
        var similar: [String: Similar] = [:]
        var buckets: [String: Bucket] = [:]
    }

    let window: TimeInterval
    let maxSimilar: Int
    let burst: Double
    let refill: TimeInterval
    let now: @Sendable () -> Date
    private let state = NIOLockedValueBox(State())

    /// The prefix of an event that stands for several similar ones.
    static let combinedPrefix = "(combined from similar events): "
    /// Entries kept per table, as client-go's 4,096-entry LRU caches: past it, expired entries
    /// are swept and then the oldest, down to half, so a sweep runs once per 2,048 new keys.
    static let sweepAbove = 4096

    static func bound<Value>(_ table: inout [String: Value], expired: (Value) -> Bool, age: (Value) -> Date) {
        guard table.count > sweepAbove else { return }
        table = table.filter { !expired($0.value) }
        guard table.count > sweepAbove / 2 else { return }
        let newest = table.sorted { age($0.value) > age($1.value) }.prefix(sweepAbove / 2)
        table = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }

    /// client-go's defaults: 10 minutes, 10 similar messages, a burst of 25 refilled every 5 minutes.
    public init(window: TimeInterval = 600, maxSimilar: Int = 10, burst: Int = 25, refill: TimeInterval = 300,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.window = window
        self.maxSimilar = max(1, maxSimilar)
        self.burst = Double(max(1, burst))
        self.refill = refill
        self.now = now
    }

    /// Decides what to write for an event; `object` identifies the involved object and source.
    func correlate(object: String, type: String, reason: String, message: String) -> Decision {
        let now = now()
        let sep = "\u{0}"
        let similarKey = [object, type, reason].joined(separator: sep)
        let exactKey = similarKey + sep + message
        return state.withLockedValue { s in
            Self.bound(&s.buckets, expired: { now.timeIntervalSince($0.last) >= refill * burst }, age: \.last)
            var bucket = s.buckets[object] ?? Bucket(tokens: burst, last: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now.timeIntervalSince(bucket.last)) / refill)
            bucket.last = now
            guard bucket.tokens >= 1 else {
                s.buckets[object] = bucket
                return .drop
            }
            bucket.tokens -= 1
            s.buckets[object] = bucket

            Self.bound(&s.similar, expired: { now.timeIntervalSince($0.first) >= window }, age: \.first)
            var similar = s.similar[similarKey].flatMap { now.timeIntervalSince($0.first) < window ? $0 : nil }
                ?? Similar(messages: [], first: now)
            similar.messages.insert(message)
            s.similar[similarKey] = similar
            let combined = similar.messages.count >= maxSimilar
            let key = combined ? similarKey : exactKey
            let text = combined ? Self.combinedPrefix + message : message

            if var seen = s.seen[key], now.timeIntervalSince(seen.first) < window {
                seen.count += 1
                s.seen[key] = seen
                return .bump(name: seen.name, count: seen.count, message: text, key: key)
            }
            s.seen[key] = nil
            return .create(message: text, key: key)
        }
    }

    func remember(_ key: String, name: String) {
        let now = now()
        state.withLockedValue { s in
            Self.bound(&s.seen, expired: { now.timeIntervalSince($0.first) >= window }, age: \.first)
            s.seen[key] = Seen(name: name, count: 1, first: now)
        }
    }

    /// Entries in each table now: seen, similar, buckets.
    var sizes: (seen: Int, similar: Int, buckets: Int) { state.withLockedValue { ($0.seen.count, $0.similar.count, $0.buckets.count) } }

    func forget(_ key: String) { _ = state.withLockedValue { $0.seen.removeValue(forKey: key) } }
}
