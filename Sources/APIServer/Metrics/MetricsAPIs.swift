import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// The metrics API groups, served from memory by their own code rather than the registry:
/// `metrics.k8s.io/v1beta1` (`ResourceMetricsAPI`), `custom.metrics.k8s.io/v1beta2`
/// (`CustomMetricsAPI`) and `external.metrics.k8s.io/v1beta1` (`ExternalMetricsAPI`), with
/// their discovery documents. The responder asks it first, after authorization: RBAC applies
/// to these resources as to any other.
public final class MetricsAPIs: Sendable {
    let registry: Registry
    let resources = ResourceMetricsCache()
    let custom = CustomMetricsCache()
    let external = ExternalMetricsStore()
    let now: @Sendable () -> Date

    static let resourceGroup = (name: "metrics.k8s.io", version: "v1beta1")
    static let customGroup = (name: "custom.metrics.k8s.io", version: "v1beta2")
    static let externalGroup = (name: "external.metrics.k8s.io", version: "v1beta1")
    static var groups: [(name: String, version: String)] { [resourceGroup, customGroup, externalGroup] }

    public init(registry: Registry, now: @escaping @Sendable () -> Date = { Date() }) {
        self.registry = registry
        self.now = now
    }

    /// The answer for a metrics path (and the merged `/apis` group list); nil for any other path.
    func respond(_ request: Request, parsed: ParsedRequest, discovery: Discovery) async throws -> Response? {
        let path = parsed.path
        let query = parsed.query
        let body: @Sendable () async throws -> JSONValue = { try await Self.decodeBody(of: request) }
        let method = request.method == .head ? "GET" : request.method.rawValue
        return try await answer(method: method, path: path, query: query, body: body, discovery: discovery, info: parsed.info)
            .map { ResponseBuilder.json($0) }
    }

    static func decodeBody(of request: Request) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: APIResponder.maxBodyBytes) } catch { throw APIError.tooLarge() }
        let contentType = MediaTypes.withoutParameters(request.headers[.contentType] ?? "application/json")
        return try BodyDecoder.decode(buffer, contentType: contentType)
    }

    /// `respond` without HTTP: the JSON answer, or nil when the path is not a metrics path.
    /// `info` is the path as the front parsed it (parsed here when not given).
    func answer(method: String, path: String, query: QueryParameters, body: @Sendable () async throws -> JSONValue,
                discovery: Discovery, info parsedInfo: RequestInfo? = nil) async throws -> JSONValue? {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.first == "apis" else { return nil }
        if parts.count == 1 {
            var list = discovery.groupList()
            let extra = listedGroups.map { discovery.group((name: $0.name, versions: [$0.version])) }
            list["groups"] = .array((list["groups"]?.arrayValue ?? []) + extra)
            return list
        }
        guard let group = Self.groups.first(where: { $0.name == parts[1] }) else { return nil }
        if parts.count == 2 {
            var doc = discovery.group((name: group.name, versions: [group.version]))
            doc["kind"] = "APIGroup"
            doc["apiVersion"] = "v1"
            return doc
        }
        guard parts[2] == group.version else { throw APIError.pathNotFound() }
        if parts.count == 3 { return resourceList(group.name) }
        guard let info = parsedInfo ?? RequestInfo.parse(path: path) else { throw APIError.pathNotFound() }
        if (try? query.bool("watch")) == true || info.legacyWatch { throw Self.methodNotAllowed() }
        switch group.name {
        case Self.resourceGroup.name:
            guard method == "GET" else { throw Self.methodNotAllowed() }
            return try await ResourceMetricsAPI(apis: self).answer(info: info, query: query)
        case Self.customGroup.name:
            guard method == "GET" else { throw Self.methodNotAllowed() }
            return try await CustomMetricsAPI(apis: self).answer(info: info, query: query)
        default:
            return try await ExternalMetricsAPI(apis: self).answer(method: method, info: info, query: query, body: body)
        }
    }

    /// The groups `/apis` names: the custom and external ones only while they have a metric, as
    /// clients (kubectl api-resources, client-go's discovery) fail on a group with no resources.
    var listedGroups: [(name: String, version: String)] {
        var groups = [Self.resourceGroup]
        if !custom.metricNames().isEmpty { groups.append(Self.customGroup) }
        if !external.metricNames.isEmpty { groups.append(Self.externalGroup) }
        return groups
    }

    /// `APIResourceList` of a metrics group: the fixed kinds of metrics.k8s.io; one entry per
    /// metric currently known for the custom and external groups.
    func resourceList(_ group: String) -> JSONValue {
        func entry(_ name: String, kind: String, namespaced: Bool, verbs: [String]) -> JSONValue {
            ["name": .string(name), "singularName": "", "namespaced": .bool(namespaced), "kind": .string(kind),
             "verbs": .array(verbs.map(JSONValue.string))]
        }
        var resources: [JSONValue] = []
        let version: String
        switch group {
        case Self.resourceGroup.name:
            version = Self.resourceGroup.version
            resources = [entry("nodes", kind: "NodeMetrics", namespaced: false, verbs: ["get", "list"]),
                         entry("pods", kind: "PodMetrics", namespaced: true, verbs: ["get", "list"])]
        case Self.customGroup.name:
            version = Self.customGroup.version
            for metric in custom.metricNames().sorted() {
                for kind in CustomMetricsAPI.objectKinds {
                    resources.append(entry("\(kind)/\(metric)", kind: "MetricValueList", namespaced: true, verbs: ["get"]))
                }
            }
        default:
            version = Self.externalGroup.version
            resources = external.metricNames.sorted().map {
                entry($0, kind: "ExternalMetricValueList", namespaced: true, verbs: ["get", "list", "update"])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string("\(group)/\(version)"),
                "resources": .array(resources)]
    }

    // MARK: shared by the three APIs

    /// Objects of a core kind (`pods`, `nodes`, `services`) matching the request's label and
    /// field selectors (as that kind's own list reads them), all of them (no paging).
    func list(_ plural: String, namespace: String?, query: QueryParameters) async throws -> [JSONValue] {
        guard let strategy = registry.catalog.strategy(group: "", plural: plural) else { throw APIError.internalError("\(plural) are not served") }
        var options = ListOptions()
        let requested = try ListOptions(query: query, strategy: strategy)
        options.labelSelector = requested.labelSelector
        options.fieldSelector = requested.fieldSelector
        return try await registry.list(strategy, version: "v1", namespace: namespace, options: options).items
    }

    /// One object of a core kind; nil when it does not exist.
    func get(_ plural: String, namespace: String?, name: String) async throws -> JSONValue? {
        guard let strategy = registry.catalog.strategy(group: "", plural: plural) else { throw APIError.internalError("\(plural) are not served") }
        do {
            return try await registry.get(strategy, version: "v1", namespace: namespace, name: name)
        } catch {
            if error.code == 404 { return nil }
            throw error
        }
    }

    static func notFound(group: String, resource: String, name: String, message: String? = nil) -> APIError {
        APIError(code: 404, reason: "NotFound", message: message ?? "\(resource).\(group) \"\(name)\" not found",
                 details: ["name": .string(name), "group": .string(group), "kind": .string(resource)])
    }

    static func methodNotAllowed() -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
    }
}
