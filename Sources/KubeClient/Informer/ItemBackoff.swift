/// Per-item exponential backoff: `base * 2^failures`, capped at `max` (client-go's
/// `ItemExponentialFailureRateLimiter`). Pure bookkeeping; `WorkQueue` owns the timing.
public struct ItemBackoff<Item: Hashable & Sendable>: Sendable {
    /// Delay after the first failure.
    public let base: Duration
    /// Upper bound of any delay.
    public let max: Duration
    private var failures: [Item: Int] = [:]

    /// Defaults match Kubernetes controllers: 5 ms doubling up to 1000 s.
    public init(base: Duration = .milliseconds(5), max: Duration = .seconds(1000)) {
        self.base = base
        self.max = max
    }

    /// Records one more failure of `item` and answers how long it should wait.
    public mutating func next(_ item: Item) -> Duration {
        let n = failures[item, default: 0]
        failures[item] = n + 1
        return delay(afterFailures: n)
    }

    /// The delay for the `n`-th consecutive failure (0-based), without recording anything.
    public func delay(afterFailures n: Int) -> Duration {
        // Past 2^40 any sane base exceeds the cap; stopping there avoids overflow.
        guard n < 40 else { return max }
        let d = base * Int(1 << n)
        return d > max ? max : d
    }

    /// Failures recorded for `item` since it was last forgotten.
    public func failures(_ item: Item) -> Int { failures[item, default: 0] }

    /// Clears the history of `item` (it succeeded).
    public mutating func forget(_ item: Item) { failures[item] = nil }
}
