import Foundation

/// Measures the node and its running containers for `/metrics/resource`.
public struct ResourceMetricsCollector: Sendable {
    let pods: any RunningPodSource
    /// Nil when the runtime cannot measure containers.
    let usage: (any ContainerUsageSource)?
    let now: @Sendable () -> Date

    public init(pods: any RunningPodSource, usage: (any ContainerUsageSource)?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.pods = pods
        self.usage = usage
        self.now = now
    }

    public func collect() async -> ResourceMetricsSnapshot {
        // Whole milliseconds, so the sample times are exactly those the scraper reads back.
        let timestamp = Date(timeIntervalSince1970: (now().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        var containers: [ResourceMetricsSnapshot.ContainerSample] = []
        var podSamples: [ResourceMetricsSnapshot.PodSample] = []
        var total = ContainerUsage.zero
        var failed = false
        for pod in await pods.runningPods() {
            let measured = await usage?.usage(of: pod, at: timestamp) ?? [:]
            var podUsage = ContainerUsage.zero
            for container in pod.containers {
                guard let u = measured[container.name] else { failed = failed || usage != nil; continue }
                podUsage = podUsage + u
                containers.append(.init(namespace: pod.namespace, pod: pod.name, container: container.name,
                                        startedAt: container.startedAt, usage: u))
            }
            if !measured.isEmpty { podSamples.append(.init(namespace: pod.namespace, pod: pod.name, usage: podUsage)) }
            total = total + podUsage
        }
        let node = await usage?.nodeUsage(podTotal: total) ?? NodeUsage.read()
        return ResourceMetricsSnapshot(timestamp: timestamp, node: node, containers: containers, pods: podSamples, scrapeError: failed)
    }
}
