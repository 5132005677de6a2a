import Foundation
import KubeModel

/// The JSON shapes of the metrics APIs, as metrics-server and prometheus-adapter send them.
enum MetricsJSON {
    /// CPU in cores as a quantity of nanocores (kubectl shows millicores, rounded up).
    static func cpu(_ cores: Double) -> JSONValue {
        .string(Quantity(mantissa: Int64((max(0, cores) * 1e9).rounded()), scale: -9).canonical)
    }

    static func memory(_ bytes: Int64) -> JSONValue {
        .string(Quantity(mantissa: max(0, bytes), format: .binarySI).canonical)
    }

    /// A metric value as prometheus-adapter writes it: milli-units.
    static func value(_ v: Double) -> JSONValue {
        .string(Quantity(mantissa: Int64((v * 1000).rounded()), scale: -3).canonical)
    }

    static func window(_ seconds: TimeInterval) -> JSONValue {
        .string(GoDuration.format(nanoseconds: Int64((seconds * 1e9).rounded())))
    }

    static func metadata(name: String, namespace: String?, labels: [String: String], now: Date) -> JSONValue {
        var m: JSONValue = ["name": .string(name), "creationTimestamp": .string(Timestamp.format(now))]
        if let namespace { m["namespace"] = .string(namespace) }
        if !labels.isEmpty { m["labels"] = .object(labels.mapValues(JSONValue.string)) }
        return m
    }

    static func usage(cpu cores: Double, memory bytes: Int64) -> JSONValue {
        ["cpu": cpu(cores), "memory": memory(bytes)]
    }

    static func nodeMetrics(name: String, labels: [String: String], usage: UsageRate, now: Date) -> JSONValue {
        ["kind": "NodeMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
         "metadata": metadata(name: name, namespace: nil, labels: labels, now: now),
         "timestamp": .string(Timestamp.format(usage.timestamp)), "window": window(usage.window),
         "usage": self.usage(cpu: usage.cpuCores, memory: usage.memoryBytes)]
    }

    static func podMetrics(namespace: String, name: String, labels: [String: String], usage: ResourceMetricsCache.PodUsage, now: Date) -> JSONValue {
        let containers: [JSONValue] = usage.containers.map {
            ["name": .string($0.name), "usage": self.usage(cpu: $0.usage.cpuCores, memory: $0.usage.memoryBytes)]
        }
        return ["kind": "PodMetrics", "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": metadata(name: name, namespace: namespace, labels: labels, now: now),
                "timestamp": .string(Timestamp.format(usage.timestamp)), "window": window(usage.window),
                "containers": .array(containers)]
    }

    static func list(kind: String, apiVersion: String, items: [JSONValue]) -> JSONValue {
        ["kind": .string(kind), "apiVersion": .string(apiVersion), "metadata": [:], "items": .array(items)]
    }

    /// One `custom.metrics.k8s.io/v1beta2` MetricValue.
    static func metricValue(kind: String, apiVersion: String, namespace: String, name: String, metric: String,
                            value: CustomMetricsCache.Value) -> JSONValue {
        var item: JSONValue = [
            "describedObject": ["kind": .string(kind), "namespace": .string(namespace), "name": .string(name), "apiVersion": .string(apiVersion)],
            "metric": ["name": .string(metric)],
            "timestamp": .string(Timestamp.format(value.timestamp)),
            "value": self.value(value.value),
        ]
        if let window = value.windowSeconds { item["windowSeconds"] = .int(window) }
        return item
    }

    /// One `external.metrics.k8s.io/v1beta1` ExternalMetricValue.
    static func externalValue(metric: String, _ v: ExternalMetricsStore.Value) -> JSONValue {
        ["metricName": .string(metric), "metricLabels": .object(v.labels.mapValues(JSONValue.string)),
         "timestamp": .string(Timestamp.format(v.timestamp)), "value": .string(v.value)]
    }
}
