import Foundation
import KubeClient

/// The server's own request-latency histogram (`apiserver_request_duration_seconds` in
/// `/metrics`), summed over resources for a set of verbs. Two scrapes make a window, and its
/// p99 is read from the buckets, as Kubernetes' API call latency SLO is: the answer is the
/// upper bound of the bucket the 99th percentile falls in.
struct ServerLatencyHistogram: Sendable {
    static let mutatingVerbs: Set<String> = ["POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION"]

    /// Cumulative counts by bucket bound (seconds; +Inf as `.infinity`).
    var buckets: [Double: Int] = [:]

    static func scrape(_ client: KubeRESTClient, verbs: Set<String>) async throws -> ServerLatencyHistogram {
        let text = String(decoding: try await client.raw("GET", "/metrics", headers: [("Accept", "text/plain")]), as: UTF8.self)
        return parse(text, verbs: verbs)
    }

    static func parse(_ text: String, verbs: Set<String>) -> ServerLatencyHistogram {
        var h = ServerLatencyHistogram()
        for line in text.split(separator: "\n") where line.hasPrefix("apiserver_request_duration_seconds_bucket{") {
            guard let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") else { continue }
            let labels = line[line.index(after: open)..<close]
            var verb: Substring?
            var le: Substring?
            for pair in labels.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let value = kv[1].trimmingCharacters(in: ["\""])
                if kv[0] == "verb" { verb = Substring(value) } else if kv[0] == "le" { le = Substring(value) }
            }
            guard let verb, verbs.contains(String(verb)), let le,
                  let count = Int(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) else { continue }
            let bound = le == "+Inf" ? Double.infinity : Double(le)
            if let bound { h.buckets[bound, default: 0] += count }
        }
        return h
    }

    /// Requests in the window `self` → `later`.
    func count(until later: ServerLatencyHistogram) -> Int {
        (later.buckets[.infinity] ?? 0) - (buckets[.infinity] ?? 0)
    }

    /// The bucket bound (seconds) under which `quantile` of the window's requests fell; nil
    /// when the window saw none, `.infinity` when they fell past the last bound.
    func quantile(_ quantile: Double, until later: ServerLatencyHistogram) -> Double? {
        let total = count(until: later)
        guard total > 0 else { return nil }
        for bound in later.buckets.keys.sorted() {
            let inWindow = (later.buckets[bound] ?? 0) - (buckets[bound] ?? 0)
            if Double(inWindow) >= quantile * Double(total) { return bound }
        }
        return .infinity
    }
}
