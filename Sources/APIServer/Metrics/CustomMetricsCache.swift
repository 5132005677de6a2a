import KubeModel
import Foundation

/// Custom metrics of the pods that ask to be scraped (`prometheus.io/scrape`), as
/// prometheus-adapter's default rules serve them: a counter `X_total` becomes the per-second
/// rate `X_per_second` (each label set's rate between the last two scrapes, summed), a gauge
/// is served as it is (summed over its label sets). Kept in memory only.
final class CustomMetricsCache: Sendable {
    typealias PodKey = ResourceMetricsCache.PodKey

    /// A metric's value for one pod.
    struct Value: Sendable, Equatable {
        var value: Double
        var timestamp: Date
        /// Seconds between the samples of a rate; nil for a gauge.
        var windowSeconds: Int64?
    }

    struct Scrape: Sendable {
        var time: Date
        /// Counter series (name plus sorted labels) by the served rate's name.
        var counters: [String: [String: Double]] = [:]
        var gauges: [String: Double] = [:]
    }

    private let pods = Locked<[PodKey: (previous: Scrape?, last: Scrape)]>([:])

    /// Takes in the text one pod's endpoint answered at `time`.
    func record(pod: PodKey, text: String, at time: Date) {
        let scrape = Self.classify(PrometheusText.parse(text), at: time)
        pods.withLock { pods in
            if let old = pods[pod], old.last.time < time {
                pods[pod] = (old.last, scrape)
            } else if pods[pod] == nil {
                pods[pod] = (nil, scrape)
            }
        }
    }

    /// Forgets every pod not in `keep` (deleted, no longer annotated, unreachable).
    func retain(_ keep: Set<PodKey>) {
        pods.withLock { pods in pods = pods.filter { keep.contains($0.key) } }
    }

    func forget(_ pod: PodKey) {
        pods.withLock { $0[pod] = nil }
    }

    /// The metric's value for the pod; nil when the pod does not have it (yet).
    func value(pod: PodKey, metric: String) -> Value? {
        guard let entry = pods.value[pod] else { return nil }
        if let gauge = entry.last.gauges[metric] { return Value(value: gauge, timestamp: entry.last.time, windowSeconds: nil) }
        guard let series = entry.last.counters[metric], let previous = entry.previous else { return nil }
        let window = entry.last.time.timeIntervalSince(previous.time)
        guard window > 0 else { return nil }
        var increase = 0.0
        var found = false
        for (key, value) in series {
            guard let before = previous.counters[metric]?[key] else { continue }
            found = true
            // A counter that went down was reset: all of its value is new.
            increase += value >= before ? value - before : value
        }
        guard found else { return nil }
        return Value(value: increase / window, timestamp: entry.last.time, windowSeconds: Int64(window.rounded()))
    }

    /// Every metric name some pod has, by namespace.
    func metricNames() -> Set<String> {
        var names: Set<String> = []
        for entry in pods.value.values {
            names.formUnion(entry.last.gauges.keys)
            names.formUnion(entry.last.counters.keys)
        }
        return names
    }

    /// Sorts samples into counters (served as rates) and gauges; histograms and summaries
    /// are left out.
    static func classify(_ text: PrometheusText, at time: Date) -> Scrape {
        var scrape = Scrape(time: time)
        for sample in text.samples where sample.value.isFinite {
            let type = text.types[sample.name] ?? (sample.name.hasSuffix("_total") ? "counter" : "gauge")
            switch type {
            case "counter":
                let base = sample.name.hasSuffix("_total") ? String(sample.name.dropLast("_total".count)) : sample.name
                let series = sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                scrape.counters[base + "_per_second", default: [:]][series] = sample.value
            case "gauge", "untyped":
                scrape.gauges[sample.name, default: 0] += sample.value
            default:
                continue
            }
        }
        return scrape
    }
}
