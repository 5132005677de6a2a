import Foundation

/// What one scrape of a kubelet's `/metrics/resource` says: the node's point and each
/// container's, read from the metric names the kubelet serves.
struct KubeletScrape: Sendable, Equatable {
    struct ContainerKey: Sendable, Hashable {
        var namespace: String
        var pod: String
        var container: String
    }

    var node: UsagePoint?
    var containers: [ContainerKey: UsagePoint] = [:]

    /// Decodes the text; samples without a timestamp are taken at `receivedAt`. A container
    /// needs both its CPU counter and its working set to be kept.
    static func decode(_ text: String, receivedAt: Date) -> KubeletScrape {
        let parsed = PrometheusText.parse(text)
        func time(_ s: PrometheusText.Sample) -> Date {
            s.timestampMs.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? receivedAt
        }
        var nodeCPU: PrometheusText.Sample?
        var nodeMemory: Double?
        var cpu: [ContainerKey: PrometheusText.Sample] = [:]
        var memory: [ContainerKey: Double] = [:]
        var start: [ContainerKey: Double] = [:]
        for s in parsed.samples where s.value.isFinite {
            func key() -> ContainerKey? {
                guard let ns = s.labels["namespace"], let pod = s.labels["pod"], let c = s.labels["container"] else { return nil }
                return ContainerKey(namespace: ns, pod: pod, container: c)
            }
            switch s.name {
            case "node_cpu_usage_seconds_total": nodeCPU = s
            case "node_memory_working_set_bytes": nodeMemory = s.value
            case "container_cpu_usage_seconds_total": if let k = key() { cpu[k] = s }
            case "container_memory_working_set_bytes": if let k = key() { memory[k] = s.value }
            case "container_start_time_seconds": if let k = key() { start[k] = s.value }
            default: break
            }
        }
        var scrape = KubeletScrape()
        if let nodeCPU, let nodeMemory {
            scrape.node = UsagePoint(timestamp: time(nodeCPU), cpuSeconds: nodeCPU.value, memoryBytes: Int64(nodeMemory), startTime: nil)
        }
        for (key, sample) in cpu {
            guard let bytes = memory[key] else { continue }
            scrape.containers[key] = UsagePoint(timestamp: time(sample), cpuSeconds: sample.value, memoryBytes: Int64(bytes),
                                                startTime: start[key].map { Date(timeIntervalSince1970: $0) })
        }
        return scrape
    }
}
