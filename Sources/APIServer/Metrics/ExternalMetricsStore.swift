import KubeModel
import Foundation

/// External metrics (external.metrics.k8s.io) as operators push them: per namespace and
/// metric name, the list of values last PUT, each with its labels. Kept in memory only: a
/// restarted server has none until they are pushed again.
final class ExternalMetricsStore: Sendable {
    struct Value: Sendable, Equatable {
        var labels: [String: String]
        /// Canonical quantity text.
        var value: String
        var timestamp: Date
    }

    private struct Key: Hashable { var namespace: String; var metric: String }
    private let values = Locked<[Key: [Value]]>([:])

    func put(namespace: String, metric: String, _ list: [Value]) {
        values.withLock { $0[Key(namespace: namespace, metric: metric)] = list }
    }

    /// Nil when nothing was pushed for the metric in the namespace.
    func get(namespace: String, metric: String) -> [Value]? {
        values.value[Key(namespace: namespace, metric: metric)]
    }

    @discardableResult
    func delete(namespace: String, metric: String) -> Bool {
        values.withLock { $0.removeValue(forKey: Key(namespace: namespace, metric: metric)) != nil }
    }

    var metricNames: Set<String> { Set(values.value.keys.map(\.metric)) }
}
