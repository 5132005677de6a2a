import Foundation

/// One pod's sample of a metric, in milli-units, with when and over which window it was taken
/// (CPU is a rate over the window).
struct PodMetric: Sendable, Equatable {
    var value: Int64
    var timestamp: Date
    var window: TimeInterval

    init(value: Int64, timestamp: Date = .distantPast, window: TimeInterval = 0) {
        self.value = value
        self.timestamp = timestamp
        self.window = window
    }
}
