import KubeModel
import Foundation

/// What a request is counted under in `/metrics`.
public struct RequestLabel: Sendable, Hashable {
    public var verb: String
    public var resource: String
    public var subresource: String
}

/// Request counts and latency histograms by verb and resource, rendered in the Prometheus
/// text format under kube-apiserver's metric names.
public final class RequestMetrics: Sendable {
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    struct Histogram {
        var counts: [Int]
        var sum: Double = 0
        var count = 0
    }

    struct Key: Hashable { var label: RequestLabel; var code: Int }

    private let state = Locked<(requests: [Key: Int], latency: [RequestLabel: Histogram])>(([:], [:]))

    /// The store's counters, rendered after the request metrics.
    let store: StoreMetrics?

    public init(store: StoreMetrics? = nil) { self.store = store }

    func observe(_ label: RequestLabel, code: Int, duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        state.withLock { s in
            s.requests[Key(label: label, code: code), default: 0] += 1
            // Watches last as long as the client stays: their duration says nothing about latency.
            guard label.verb != "WATCH" else { return }
            var h = s.latency[label] ?? Histogram(counts: Array(repeating: 0, count: Self.buckets.count))
            for (i, b) in Self.buckets.enumerated() where seconds <= b { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            s.latency[label] = h
        }
    }

    public func render() -> String {
        let (requests, latency) = state.withLock { ($0.requests, $0.latency) }
        var out = "# HELP apiserver_request_total Counter of apiserver requests broken out by verb, resource and HTTP response code.\n"
        out += "# TYPE apiserver_request_total counter\n"
        for (k, v) in requests.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            out += "apiserver_request_total{code=\"\(k.code)\",resource=\"\(k.label.resource)\",subresource=\"\(k.label.subresource)\",verb=\"\(k.label.verb)\"} \(v)\n"
        }
        out += "# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.\n"
        out += "# TYPE apiserver_request_duration_seconds histogram\n"
        for (l, h) in latency.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            let labels = "resource=\"\(l.resource)\",subresource=\"\(l.subresource)\",verb=\"\(l.verb)\""
            for (i, b) in Self.buckets.enumerated() {
                out += "apiserver_request_duration_seconds_bucket{\(labels),le=\"\(b)\"} \(h.counts[i])\n"
            }
            out += "apiserver_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(h.count)\n"
            out += "apiserver_request_duration_seconds_sum{\(labels)} \(h.sum)\n"
            out += "apiserver_request_duration_seconds_count{\(labels)} \(h.count)\n"
        }
        if let store { out += store.render() }
        return out
    }
}
