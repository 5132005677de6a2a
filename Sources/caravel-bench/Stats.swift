import Foundation

/// Monotonic nanoseconds. Used both for durations and for the send timestamps carried in watch
/// annotations: writer and watcher live in this process, so a monotonic clock is comparable and
/// immune to wall-clock steps.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func millis(since start: UInt64, to end: UInt64 = monotonicNanos()) -> Double {
    Double(end &- start) / 1_000_000
}

/// p50 / p99 / max of latency samples in milliseconds (nearest-rank percentiles).
struct LatencySummary: Equatable {
    var count: Int
    var p50: Double
    var p99: Double
    var max: Double

    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        count = sorted.count
        p50 = Self.percentile(sorted, 50)
        p99 = Self.percentile(sorted, 99)
        max = sorted[sorted.count - 1]
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(Swift.max(rank, 1), sorted.count) - 1]
    }

    var line: String { "p50 \(fmt(p50, 2)) p99 \(fmt(p99, 2)) max \(fmt(max, 2))" }
}

func fmt(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

/// Resident set size of a process in KiB, from `/proc/PID/status` (Linux only).
func residentKiB(pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

func rssLine(pid: Int32, label: String) -> String {
    guard let kib = residentKiB(pid: pid) else { return "\(label): unavailable (cannot read /proc/\(pid)/status)" }
    return "\(label): \(fmt(Double(kib) / 1024)) MiB (pid \(pid))"
}

/// RSS at each of `offsets` after now: after a mass delete the server's caches keep working
/// through the deletions and its heap is trimmed every 10 s, so a reading taken at once says
/// little about what it keeps.
func residentKiBLater(pid: Int32, at offsets: [Duration]) async -> [(offset: Duration, kib: Int)] {
    let start = ContinuousClock.now
    var readings: [(offset: Duration, kib: Int)] = []
    for offset in offsets.sorted() {
        try? await Task.sleep(until: start + offset, clock: .continuous)
        guard let kib = residentKiB(pid: pid) else { break }
        readings.append((offset, kib))
    }
    return readings
}

/// A benchmark failure with a message meant for the terminal.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
