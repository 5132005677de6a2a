import Foundation

/// The Prometheus text of `/metrics/resource`, with the kubelet's metric names, labels and
/// help texts, each sample stamped with the measurement time in milliseconds.
enum ResourceMetricsText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ s: ResourceMetricsSnapshot) -> String {
        let ms = String(Int64((s.timestamp.timeIntervalSince1970 * 1000).rounded()))
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            guard !samples.isEmpty else { return }
            out += "# HELP \(name) [STABLE] \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(sample.value) \(ms)\n"
            }
        }
        func containerLabels(_ c: ResourceMetricsSnapshot.ContainerSample) -> [(String, String)] {
            [("container", c.container), ("namespace", c.namespace), ("pod", c.pod)]
        }
        func podLabels(_ p: ResourceMetricsSnapshot.PodSample) -> [(String, String)] { [("namespace", p.namespace), ("pod", p.pod)] }

        family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container in core-seconds",
               s.containers.map { (containerLabels($0), number($0.usage.cpuSeconds)) })
        family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes",
               s.containers.map { (containerLabels($0), String($0.usage.memoryWorkingSetBytes)) })
        family("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds",
               s.containers.map { (containerLabels($0), number($0.startedAt.timeIntervalSince1970)) })
        if let node = s.node {
            family("node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds",
                   [([], number(node.cpuSeconds))])
            family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes",
                   [([], String(node.memoryWorkingSetBytes))])
        }
        family("pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds",
               s.pods.map { (podLabels($0), number($0.usage.cpuSeconds)) })
        family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes",
               s.pods.map { (podLabels($0), String($0.usage.memoryWorkingSetBytes)) })
        // Unstamped, as the kubelet sends it.
        out += "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n"
        out += "# TYPE resource_scrape_error gauge\nresource_scrape_error \(s.scrapeError ? 1 : 0)\n"
        return out
    }

    /// Shortest text that reads back as the same double.
    static func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "0" }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
