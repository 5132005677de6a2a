import Foundation
import KubeModel

/// `external.metrics.k8s.io/v1beta1`, with values pushed by operators:
///
///     PUT /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC   (body: ExternalMetricValueList)
///     GET /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC?labelSelector=...
///
/// A PUT replaces every value of the metric in the namespace (an empty `items` clears them)
/// and needs RBAC `update` on resource METRIC of the group; a GET needs `list`. Items name
/// their metric (`metricName`, defaulted to the path's), their labels (`metricLabels`, which
/// the label selector matches), a quantity `value` and an optional `timestamp` (default:
/// the time of the PUT). Values live in memory only.
struct ExternalMetricsAPI {
    let apis: MetricsAPIs

    func answer(method: String, info: RequestInfo, query: QueryParameters, body: () async throws -> JSONValue) async throws -> JSONValue {
        guard let namespace = info.namespace, info.name == nil, info.subresource == nil else { throw APIError.pathNotFound() }
        let metric = info.resource
        switch method {
        case "GET":
            guard let values = apis.external.get(namespace: namespace, metric: metric) else {
                throw APIError(code: 404, reason: "NotFound", message: "the server could not find the external metric \(metric) in namespace \(namespace)",
                               details: ["name": .string(metric), "group": "external.metrics.k8s.io", "kind": .string(metric)])
            }
            var selector: LabelSelector?
            if let s = query["labelSelector"], !s.isEmpty {
                do { selector = try LabelSelector.parse(s) } catch { throw APIError.badRequest(error.message) }
            }
            let items = values.filter { selector?.matches($0.labels) ?? true }.map { MetricsJSON.externalValue(metric: metric, $0) }
            return list(items)
        case "PUT":
            let values = try Self.decode(try await body(), metric: metric, now: apis.now())
            apis.external.put(namespace: namespace, metric: metric, values)
            return list(values.map { MetricsJSON.externalValue(metric: metric, $0) })
        default:
            throw MetricsAPIs.methodNotAllowed()
        }
    }

    func list(_ items: [JSONValue]) -> JSONValue {
        MetricsJSON.list(kind: "ExternalMetricValueList", apiVersion: "external.metrics.k8s.io/v1beta1", items: items)
    }

    /// The values of an ExternalMetricValueList body; 400 for the wrong kind, 422 for invalid items.
    static func decode(_ body: JSONValue, metric: String, now: Date) throws -> [ExternalMetricsStore.Value] {
        guard case .object = body else { throw APIError.badRequest("the body must be an ExternalMetricValueList object") }
        if let kind = body["kind"], kind.stringValue != "ExternalMetricValueList" {
            throw APIError.badRequest("the body must be an ExternalMetricValueList, not \(kind.stringValue ?? "\(kind)")")
        }
        if let version = body["apiVersion"], version.stringValue != "external.metrics.k8s.io/v1beta1" {
            throw APIError.badRequest("apiVersion must be external.metrics.k8s.io/v1beta1")
        }
        guard let items = (body["items"] ?? .array([])).arrayValue else { throw invalid(metric, "items", "must be a list") }
        var out: [ExternalMetricsStore.Value] = []
        for (i, item) in items.enumerated() {
            let field = "items[\(i)]"
            if let name = item["metricName"], name.stringValue != metric {
                throw invalid(metric, field + ".metricName", "must be \"\(metric)\", the metric of the path")
            }
            var labels: [String: String] = [:]
            for (key, value) in item["metricLabels"]?.objectValue ?? [:] {
                guard let text = value.stringValue else { throw invalid(metric, "\(field).metricLabels.\(key)", "must be a string") }
                if let e = LabelValidation.qualifiedNameErrors(key) { throw invalid(metric, "\(field).metricLabels", "\(key): \(e)") }
                if let e = LabelValidation.valueError(text) { throw invalid(metric, "\(field).metricLabels.\(key)", e) }
                labels[key] = text
            }
            guard let valueText = item["value"]?.stringValue ?? item["value"].flatMap(Self.numberText),
                  let quantity = Quantity.parse(valueText) else {
                throw invalid(metric, field + ".value", "must be a quantity, e.g. \"42\" or \"1500m\"")
            }
            var timestamp = now
            if let t = item["timestamp"]?.stringValue {
                guard let parsed = Timestamp.parse(t) else { throw invalid(metric, field + ".timestamp", "must be an RFC 3339 time") }
                timestamp = parsed
            }
            out.append(.init(labels: labels, value: quantity.canonical, timestamp: timestamp))
        }
        return out
    }

    static func numberText(_ v: JSONValue) -> String? {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : nil
        default: return nil
        }
    }

    static func invalid(_ metric: String, _ field: String, _ message: String) -> APIError {
        APIError(code: 422, reason: "Invalid", message: "ExternalMetricValueList \"\(metric)\" is invalid: \(field): Invalid value: \(message)",
                 details: ["name": .string(metric), "group": "external.metrics.k8s.io", "kind": "ExternalMetricValueList",
                           "causes": [["reason": "FieldValueInvalid", "message": .string("Invalid value: \(message)"), "field": .string(field)]]])
    }
}
