import KubeModel
import Foundation

/// The resource metrics the API server serves (metrics.k8s.io), kept in memory only: the last
/// two samples of every node and container, from each node's latest scrape. A node that could
/// not be scraped, or is no longer Ready, is forgotten with its pods.
final class ResourceMetricsCache: Sendable {
    struct PodKey: Sendable, Hashable, Comparable {
        var namespace: String
        var name: String
        static func < (a: PodKey, b: PodKey) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
    }

    /// A pod's usage: every container has a rate (a pod with a container still waiting for
    /// its second sample is not reported, as metrics-server does).
    struct PodUsage: Sendable, Equatable {
        var timestamp: Date
        var window: TimeInterval
        /// By container name, sorted.
        var containers: [(name: String, usage: UsageRate)]

        static func == (a: PodUsage, b: PodUsage) -> Bool {
            a.timestamp == b.timestamp && a.window == b.window && a.containers.map(\.name) == b.containers.map(\.name)
                && a.containers.map(\.usage) == b.containers.map(\.usage)
        }
    }

    struct NodeEntry: Sendable {
        var node: UsageSeries?
        var containers: [PodKey: [String: UsageSeries]] = [:]
    }

    private let nodes = Locked<[String: NodeEntry]>([:])

    /// Takes in a node's scrape: its series move on, containers it no longer reports go.
    func record(node name: String, _ scrape: KubeletScrape) {
        nodes.withLock { nodes in
            let old = nodes[name] ?? NodeEntry()
            var entry = NodeEntry()
            if let point = scrape.node { entry.node = old.node.map { $0.adding(point) } ?? UsageSeries(point) }
            for (key, point) in scrape.containers {
                let pod = PodKey(namespace: key.namespace, name: key.pod)
                let series = old.containers[pod]?[key.container].map { $0.adding(point) } ?? UsageSeries(point)
                entry.containers[pod, default: [:]][key.container] = series
            }
            nodes[name] = entry
        }
    }

    /// Drops a node (unreachable, not Ready, deleted) and its pods.
    func forget(node name: String) {
        nodes.withLock { $0[name] = nil }
    }

    var nodeNames: Set<String> { Set(nodes.value.keys) }

    func node(_ name: String) -> UsageRate? {
        nodes.value[name]?.node?.rate
    }

    func pod(namespace: String, name: String) -> PodUsage? {
        let key = PodKey(namespace: namespace, name: name)
        return nodes.value.values.lazy.compactMap { $0.containers[key].flatMap(Self.usage) }.first
    }

    /// Every pod with usage, optionally in one namespace.
    func pods(namespace: String?) -> [PodKey: PodUsage] {
        var out: [PodKey: PodUsage] = [:]
        for entry in nodes.value.values {
            for (key, containers) in entry.containers where namespace == nil || key.namespace == namespace {
                if let usage = Self.usage(containers) { out[key] = usage }
            }
        }
        return out
    }

    static func usage(_ containers: [String: UsageSeries]) -> PodUsage? {
        var rates: [(name: String, usage: UsageRate)] = []
        for (name, series) in containers.sorted(by: { $0.key < $1.key }) {
            guard let rate = series.rate else { return nil }
            rates.append((name, rate))
        }
        guard let newest = rates.map(\.usage).max(by: { $0.timestamp < $1.timestamp }) else { return nil }
        return PodUsage(timestamp: newest.timestamp, window: newest.window, containers: rates)
    }
}
