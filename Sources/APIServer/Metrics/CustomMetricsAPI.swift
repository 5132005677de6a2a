import Foundation
import KubeModel

/// `custom.metrics.k8s.io/v1beta2`, as prometheus-adapter serves it, from `CustomMetricsCache`:
///
///     GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/pods/*/METRIC?labelSelector=...
///     GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/pods/NAME/METRIC
///     GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/NS/services/NAME/METRIC   (or */METRIC)
///
/// A Pods metric is the pod's own value. An Object metric of a Service is the sum of the
/// metric over the pods the Service's selector picks (a Service's request rate is the sum of
/// its pods' rates); a Service without a selector, or none of whose pods has the metric, has
/// none. Each answer is a MetricValueList.
struct CustomMetricsAPI {
    static let objectKinds = ["pods", "services"]
    let apis: MetricsAPIs

    func answer(info: RequestInfo, query: QueryParameters) async throws -> JSONValue {
        // Clients send the wildcard escaped (`%2A`).
        guard let namespace = info.namespace, let name = info.name?.removingPercentEncoding, let metric = info.subresource,
              Self.objectKinds.contains(info.resource) else { throw APIError.pathNotFound() }
        guard apis.custom.metricNames().contains(metric) else { throw notFound(metric, info.resource) }
        var items: [JSONValue] = []
        if info.resource == "pods" {
            for pod in try await objects("pods", namespace: namespace, name: name, query: query) {
                guard let podName = pod.name, let value = apis.custom.value(pod: .init(namespace: namespace, name: podName), metric: metric) else { continue }
                items.append(MetricsJSON.metricValue(kind: "Pod", apiVersion: "/v1", namespace: namespace, name: podName, metric: metric, value: value))
            }
            if name != "*" && items.isEmpty { throw notFound(metric, "pods") }
        } else {
            for service in try await objects("services", namespace: namespace, name: name, query: query) {
                guard let serviceName = service.name, let value = try await serviceValue(service, namespace: namespace, metric: metric) else { continue }
                items.append(MetricsJSON.metricValue(kind: "Service", apiVersion: "/v1", namespace: namespace, name: serviceName,
                                                     metric: metric, value: value))
            }
            if name != "*" && items.isEmpty { throw notFound(metric, "services") }
        }
        return MetricsJSON.list(kind: "MetricValueList", apiVersion: "custom.metrics.k8s.io/v1beta2", items: items)
    }

    /// What the path names: `*` is every object the label selector picks; a name is that one
    /// object (NotFound when it does not exist).
    func objects(_ plural: String, namespace: String, name: String, query: QueryParameters) async throws -> [JSONValue] {
        if name == "*" { return try await apis.list(plural, namespace: namespace, query: query) }
        guard let object = try await apis.get(plural, namespace: namespace, name: name) else {
            throw MetricsAPIs.notFound(group: "", resource: plural, name: name, message: "\(plural) \"\(name)\" not found")
        }
        return [object]
    }

    /// The sum over the pods the Service selects; nil when none of them has the metric.
    func serviceValue(_ service: JSONValue, namespace: String, metric: String) async throws -> CustomMetricsCache.Value? {
        let selector = service.stringMap(at: ["spec", "selector"])
        guard !selector.isEmpty else { return nil }
        let query = QueryParameters("labelSelector=" + selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        var total: CustomMetricsCache.Value?
        for pod in try await apis.list("pods", namespace: namespace, query: query) {
            guard let name = pod.name, let v = apis.custom.value(pod: .init(namespace: namespace, name: name), metric: metric) else { continue }
            total = CustomMetricsCache.Value(value: (total?.value ?? 0) + v.value, timestamp: max(total?.timestamp ?? v.timestamp, v.timestamp),
                                             windowSeconds: v.windowSeconds.map { max($0, total?.windowSeconds ?? 0) })
        }
        return total
    }

    func notFound(_ metric: String, _ resource: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the metric \(metric) for \(resource)",
                 details: ["name": .string(metric), "group": "custom.metrics.k8s.io", "kind": .string(resource)])
    }
}
