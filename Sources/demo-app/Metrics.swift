import Foundation

/// Prometheus text exposition format 0.0.4, written by hand (no metrics dependency).
enum MetricsText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ state: AppState) -> String {
        let snap = state.snapshot()
        var out = ""
        out += "# HELP http_requests_total HTTP requests served, by path and status code.\n"
        out += "# TYPE http_requests_total counter\n"
        for (key, count) in snap.requests {
            out += "http_requests_total{path=\"\(escape(key.path))\",code=\"\(key.code)\"} \(count)\n"
        }
        out += "# HELP demo_cpu_burn_seconds_total CPU time spent in GET /burn.\n"
        out += "# TYPE demo_cpu_burn_seconds_total counter\n"
        out += "demo_cpu_burn_seconds_total \(number(snap.burnSeconds))\n"
        out += "# HELP demo_ready Whether GET /readyz currently succeeds (1) or not (0).\n"
        out += "# TYPE demo_ready gauge\n"
        out += "demo_ready \(state.ready ? 1 : 0)\n"
        out += "# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.\n"
        out += "# TYPE process_start_time_seconds gauge\n"
        out += "process_start_time_seconds \(number(state.startedAt.timeIntervalSince1970))\n"
        return out
    }

    /// Label values escape backslash, double quote and newline.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Plain decimal (Swift's description may use exponents, e.g. 1e-05, which parsers accept,
    /// but fixed notation reads better).
    static func number(_ d: Double) -> String {
        String(format: "%.6f", d)
    }
}
