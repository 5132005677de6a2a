import Foundation
import KubeModel

/// `metrics.k8s.io/v1beta1`, as metrics-server serves it: NodeMetrics and PodMetrics, get and
/// list, label selectors, all namespaces. Labels and existence come from the Nodes and Pods
/// themselves; usage from `ResourceMetricsCache`. Objects without usage yet are left out of
/// lists, and a get of one is NotFound.
struct ResourceMetricsAPI {
    let apis: MetricsAPIs

    func answer(info: RequestInfo, query: QueryParameters) async throws -> JSONValue {
        guard info.subresource == nil else { throw APIError.pathNotFound() }
        let now = apis.now()
        switch info.resource {
        case "nodes" where info.namespace == nil:
            if let name = info.name {
                guard let node = try await apis.get("nodes", namespace: nil, name: name), let usage = apis.resources.node(name) else {
                    throw MetricsAPIs.notFound(group: "metrics.k8s.io", resource: "nodemetrics", name: name)
                }
                return MetricsJSON.nodeMetrics(name: name, labels: node.labels, usage: usage, now: now)
            }
            let items = try await apis.list("nodes", namespace: nil, query: query).compactMap { node -> JSONValue? in
                guard let name = node.name, let usage = apis.resources.node(name) else { return nil }
                return MetricsJSON.nodeMetrics(name: name, labels: node.labels, usage: usage, now: now)
            }
            return MetricsJSON.list(kind: "NodeMetricsList", apiVersion: "metrics.k8s.io/v1beta1", items: items)
        case "pods":
            if let name = info.name, let namespace = info.namespace {
                guard let pod = try await apis.get("pods", namespace: namespace, name: name),
                      let usage = apis.resources.pod(namespace: namespace, name: name) else {
                    throw MetricsAPIs.notFound(group: "metrics.k8s.io", resource: "podmetrics", name: name)
                }
                return MetricsJSON.podMetrics(namespace: namespace, name: name, labels: pod.labels, usage: usage, now: now)
            }
            guard info.name == nil else { throw APIError.pathNotFound() }
            let usage = apis.resources.pods(namespace: info.namespace)
            let pods = try await apis.list("pods", namespace: info.namespace, query: query)
            let items = pods.compactMap { pod -> JSONValue? in
                guard let ns = pod.namespace, let name = pod.name,
                      let u = usage[ResourceMetricsCache.PodKey(namespace: ns, name: name)] else { return nil }
                return MetricsJSON.podMetrics(namespace: ns, name: name, labels: pod.labels, usage: u, now: now)
            }
            return MetricsJSON.list(kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", items: items)
        default:
            throw APIError.pathNotFound()
        }
    }
}
