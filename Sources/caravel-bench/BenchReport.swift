import Synchronization

/// The figures of a run against their targets, printed together at the end: each row says
/// the figure, the target and the ratio, oriented so that ≥ 1 means the target is met.
final class BenchReport: Sendable {
    struct Row: Sendable {
        var name: String
        var figure: Double
        var unit: String
        var target: Double
        /// Throughputs are better higher; latencies, durations and memory lower.
        var higherIsBetter: Bool

        var ratio: Double {
            guard figure > 0, target > 0 else { return higherIsBetter ? 0 : .infinity }
            return higherIsBetter ? figure / target : target / figure
        }
    }

    private let rows = Mutex<[Row]>([])

    /// Adds a figure where more is better (rates).
    func atLeast(_ name: String, _ figure: Double, _ unit: String, target: Double) {
        rows.withLock { $0.append(Row(name: name, figure: figure, unit: unit, target: target, higherIsBetter: true)) }
    }

    /// Adds a figure where less is better (latencies, durations, memory).
    func atMost(_ name: String, _ figure: Double, _ unit: String, target: Double) {
        rows.withLock { $0.append(Row(name: name, figure: figure, unit: unit, target: target, higherIsBetter: false)) }
    }

    /// The table, one row per figure; empty when nothing was measured.
    var lines: [String] {
        let all = rows.withLock { $0 }
        guard !all.isEmpty else { return [] }
        let width = max(40, all.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var out = ["report: figure / target / ratio (≥ 1.00 meets the target)"]
        for r in all {
            let target = (r.higherIsBetter ? "≥ " : "≤ ") + fmt(r.target, r.target < 10 ? 2 : 0) + " " + r.unit
            out.append("  " + pad(r.name, width) + "  " + pad(fmt(r.figure, 2) + " " + r.unit, 16) + "  "
                       + pad(target, 18) + "  " + fmt(r.ratio, 2) + (r.ratio >= 1 ? "" : "  MISSED"))
        }
        return out
    }
}
