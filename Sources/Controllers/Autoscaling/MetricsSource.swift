import Foundation
import KubeModel

/// Where the autoscaler reads metrics: the resource metrics API (metrics.k8s.io), the custom
/// metrics API (custom.metrics.k8s.io) and the external metrics API (external.metrics.k8s.io),
/// or a fake in tests. Values are milli-units. Errors carry Kubernetes' wording.
protocol MetricsSource: Sendable {
    /// Each pod's usage of `resource` (the sum over its containers, or one `container`'s) for
    /// the pods `selector` selects in `namespace`.
    func resourceMetrics(_ resource: String, container: String?, namespace: String, selector: String) async throws -> [String: PodMetric]

    /// Each selected pod's value of the custom metric `name`.
    func podsMetric(_ name: String, namespace: String, selector: String, metricSelector: String?) async throws -> [String: PodMetric]

    /// The custom metric `name` of one object.
    func objectMetric(_ name: String, namespace: String, object: MetricObjectReference, metricSelector: String?) async throws -> Int64

    /// The values of the external metric `name` that `metricSelector` selects.
    func externalMetric(_ name: String, namespace: String, metricSelector: String?) async throws -> [Int64]
}

/// The object an Object metric describes (spec.metrics[].object.describedObject).
struct MetricObjectReference: Sendable, Equatable {
    var apiVersion: String
    var kind: String
    var name: String

    init(apiVersion: String, kind: String, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
    }

    init(_ json: JSONValue?) {
        self.init(apiVersion: json?["apiVersion"]?.stringValue ?? "", kind: json?["kind"]?.stringValue ?? "",
                  name: json?["name"]?.stringValue ?? "")
    }
}

/// A metrics API answered, but without what was asked for.
struct MetricsUnavailable: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
