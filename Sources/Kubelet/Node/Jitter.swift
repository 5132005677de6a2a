/// Periods with jitter, as Kubernetes' `wait.JitterUntil`: a node's status and Lease loops wait
/// their interval plus up to `factor` of it more, so nodes started together drift apart
/// instead of writing in the same instant for ever.
public enum Jitter {
    /// kubelet's factor for node status and Lease renewals.
    public static let kubeletFactor = 0.04

    /// `base` plus `factor × base × random` (`random` in 0..<1, injected for tests).
    public static func apply(_ base: Duration, factor: Double, random: Double) -> Duration {
        let extra = Double(base.totalNanoseconds) * max(0, factor) * min(max(random, 0), 1)
        return base + .nanoseconds(Int64(extra))
    }

    /// A random offset in 0..<`base`: spreads the first beat of many loops over one period.
    public static func offset(within base: Duration, random: Double) -> Duration {
        .nanoseconds(Int64(Double(base.totalNanoseconds) * min(max(random, 0), 1)))
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating far beyond any interval used here).
    var totalNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1_000_000_000).overflow
            ? .max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
