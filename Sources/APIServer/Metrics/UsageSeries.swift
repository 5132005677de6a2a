import Foundation

/// One cumulative CPU counter and memory reading, as a kubelet reported it.
struct UsagePoint: Sendable, Equatable {
    var timestamp: Date
    var cpuSeconds: Double
    var memoryBytes: Int64
    /// The container's start: a different one means the counter restarted from zero.
    var startTime: Date?
}

/// Usage over a window, as metrics-server serves it: CPU as the counter's rate between two
/// samples (cores), memory as the newer sample's working set.
struct UsageRate: Sendable, Equatable {
    var timestamp: Date
    var window: TimeInterval
    var cpuCores: Double
    var memoryBytes: Int64
}

/// The last two samples of one counter. A rate needs both, from the same container run.
struct UsageSeries: Sendable, Equatable {
    var previous: UsagePoint?
    var last: UsagePoint

    init(_ first: UsagePoint) {
        last = first
    }

    /// The series with `point` as its newest sample: a repeated sample changes nothing; a
    /// restarted container (new start time) or a counter that went down starts over.
    func adding(_ point: UsagePoint) -> UsageSeries {
        if point.timestamp <= last.timestamp { return self }
        if point.startTime != last.startTime || point.cpuSeconds < last.cpuSeconds { return UsageSeries(point) }
        var next = UsageSeries(point)
        next.previous = last
        return next
    }

    /// CPU between the two samples (window = time between them); nil before the second.
    var rate: UsageRate? {
        guard let previous else { return nil }
        // Kubelets stamp samples in whole milliseconds: undo the Date arithmetic's rounding.
        let window = (last.timestamp.timeIntervalSince(previous.timestamp) * 1000).rounded() / 1000
        guard window > 0 else { return nil }
        let cores = (last.cpuSeconds - previous.cpuSeconds) / window
        return UsageRate(timestamp: last.timestamp, window: window, cpuCores: max(0, cores), memoryBytes: last.memoryBytes)
    }
}
