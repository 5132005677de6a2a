import Foundation
import KubeClient
import KubeModel

/// Reads metrics from the API server's metrics APIs, as Kubernetes' REST metrics client does:
/// metrics.k8s.io/v1beta1 PodMetrics, custom.metrics.k8s.io/v1beta2 and
/// external.metrics.k8s.io/v1beta1.
struct RESTMetricsSource: MetricsSource {
    static let resourceMetrics = ResourcePath(group: "metrics.k8s.io", version: "v1beta1", plural: "pods")
    static let customMetricsRoot = "/apis/custom.metrics.k8s.io/v1beta2"
    static let externalMetricsRoot = "/apis/external.metrics.k8s.io/v1beta1"

    let client: any ResourceClient
    let resolver: ResourceKindResolver

    func resourceMetrics(_ resource: String, container: String?, namespace: String, selector: String) async throws -> [String: PodMetric] {
        let list: JSONValue
        do {
            list = try await client.list(Self.resourceMetrics.inNamespace(namespace).path, query: ["labelSelector": selector])
        } catch {
            throw MetricsUnavailable("unable to fetch metrics from resource metrics API: \(Self.describe(error))")
        }
        let items = list["items"]?.arrayValue ?? []
        guard !items.isEmpty else { throw MetricsUnavailable("no metrics returned from resource metrics API") }
        var out: [String: PodMetric] = [:]
        for pod in items {
            guard let name = pod.name else { continue }
            let timestamp = pod["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? .distantPast
            let window = pod["window"]?.stringValue.flatMap(GoDuration.parse).map(AutoscalerOptions.seconds) ?? 0
            let containers = pod["containers"]?.arrayValue ?? []
            if let container {
                guard let c = containers.first(where: { $0["name"]?.stringValue == container }) else { continue }
                guard let v = Self.milli(c[path: ["usage", resource]]) else {
                    throw MetricsUnavailable("failed to get container metrics: missing resource metric \(resource) for container \(container) in pod \(namespace)/\(name)")
                }
                out[name] = PodMetric(value: v, timestamp: timestamp, window: window)
            } else {
                // A pod counts only when every container reports the resource.
                let values = containers.map { Self.milli($0[path: ["usage", resource]]) }
                guard !values.isEmpty, !values.contains(nil) else { continue }
                out[name] = PodMetric(value: values.reduce(0) { $0 + ($1 ?? 0) }, timestamp: timestamp, window: window)
            }
        }
        return out
    }

    func podsMetric(_ name: String, namespace: String, selector: String, metricSelector: String?) async throws -> [String: PodMetric] {
        var query = ["labelSelector": selector]
        if let metricSelector, !metricSelector.isEmpty { query["metricLabelSelector"] = metricSelector }
        let path = "\(Self.customMetricsRoot)/namespaces/\(Self.segment(namespace))/pods/*/\(Self.segment(name))"
        let items = try await customItems(path, query: query)
        var out: [String: PodMetric] = [:]
        for item in items {
            guard let pod = item[path: ["describedObject", "name"]]?.stringValue, let v = Self.milli(item["value"]) else { continue }
            let timestamp = item["timestamp"]?.stringValue.flatMap(Timestamp.parse) ?? .distantPast
            let window = item["windowSeconds"]?.intValue.map(TimeInterval.init) ?? 0
            out[pod] = PodMetric(value: v, timestamp: timestamp, window: window)
        }
        return out
    }

    func objectMetric(_ name: String, namespace: String, object: MetricObjectReference, metricSelector: String?) async throws -> Int64 {
        let plural = try await resolver.resolve(apiVersion: object.apiVersion.isEmpty ? "v1" : object.apiVersion, kind: object.kind).resource
        let group = plural.group.isEmpty ? "" : ".\(plural.group)"
        var query: [String: String] = [:]
        if let metricSelector, !metricSelector.isEmpty { query["metricLabelSelector"] = metricSelector }
        let path = "\(Self.customMetricsRoot)/namespaces/\(Self.segment(namespace))/\(Self.segment(plural.plural + group))/\(Self.segment(object.name))/\(Self.segment(name))"
        let items = try await customItems(path, query: query)
        guard items.count == 1, let v = Self.milli(items[0]["value"]) else {
            throw MetricsUnavailable("the custom metrics API server returned \(items.count) results when we asked for exactly one")
        }
        return v
    }

    func externalMetric(_ name: String, namespace: String, metricSelector: String?) async throws -> [Int64] {
        var query: [String: String] = [:]
        if let metricSelector, !metricSelector.isEmpty { query["labelSelector"] = metricSelector }
        let list: JSONValue
        do {
            list = try await client.get("\(Self.externalMetricsRoot)/namespaces/\(Self.segment(namespace))/\(Self.segment(name))", query: query)
        } catch {
            throw MetricsUnavailable("unable to fetch metrics from external metrics API: \(Self.describe(error))")
        }
        let values = (list["items"]?.arrayValue ?? []).compactMap { Self.milli($0["value"]) }
        guard !values.isEmpty else { throw MetricsUnavailable("no metrics returned from external metrics API") }
        return values
    }

    private func customItems(_ path: String, query: [String: String]) async throws -> [JSONValue] {
        let list: JSONValue
        do {
            list = try await client.get(path, query: query)
        } catch {
            throw MetricsUnavailable("unable to fetch metrics from custom metrics API: \(Self.describe(error))")
        }
        let items = list["items"]?.arrayValue ?? []
        guard !items.isEmpty else { throw MetricsUnavailable("no metrics returned from custom metrics API") }
        return items
    }

    static func milli(_ v: JSONValue?) -> Int64? {
        guard let v else { return nil }
        if let i = v.intValue { return i.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : i * 1000 }
        return v.stringValue.flatMap(Quantity.parse)?.milliValue
    }

    static func segment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    static func describe(_ error: any Error) -> String {
        (error as? KubeAPIError).map { $0.message } ?? "\(error)"
    }
}
