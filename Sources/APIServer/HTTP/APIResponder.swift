import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// The HTTP front of the API server: health, version, discovery, OpenAPI and metrics, and
/// every resource request, answered with Kubernetes `Status` errors on failure.
public struct APIResponder: HTTPResponder {
    public typealias Context = APIRequestContext

    let registry: Registry
    let metrics: RequestMetrics
    let health: HealthState
    /// Who is calling: client certificates and bearer tokens.
    let authenticator: Authenticator
    /// What the caller may do: RBAC in the server, allow-all where no authorizer is given.
    let authorizer: any Authorizer
    /// Where every request is recorded; nil with `--audit-level None`.
    let audit: AuditLog?
    /// In-flight and per-user watch caps (429 beyond).
    let limiter: InflightLimiter
    /// metrics.k8s.io, custom.metrics.k8s.io and external.metrics.k8s.io, served from memory.
    let metricsAPIs: MetricsAPIs?
    /// Group/versions of other API servers (APIServices with a `spec.service`), proxied to.
    let aggregated: AggregatedAPIs?
    /// Largest request body accepted, as kube-apiserver's 3 MiB.
    static let maxBodyBytes = 3 * 1024 * 1024

    public init(registry: Registry, metrics: RequestMetrics, health: HealthState,
                authenticator: Authenticator, authorizer: any Authorizer = AlwaysAllowAuthorizer(), audit: AuditLog? = nil,
                limiter: InflightLimiter = InflightLimiter(), metricsAPIs: MetricsAPIs? = nil, aggregated: AggregatedAPIs? = nil) {
        self.aggregated = aggregated
        self.metricsAPIs = metricsAPIs
        self.audit = audit
        self.limiter = limiter
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.registry = registry
        self.metrics = metrics
        self.health = health
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        try await ResponseBuilder.$servesYAML.withValue(MediaTypes.prefersYAML(accept: request.headers[.accept])) {
            try await ConnectionHangUp.$channel.withValue(context.channel) {
                try await front.handle(request, context: context) { request, context in try await route(request, context: context) }
            }
        }
    }

    /// The steps every request goes through before routing, outermost first (`HTTP/Front/`).
    @MiddlewareFixedTypeBuilder<Request, Response, Context>
    var front: some MiddlewareProtocol<Request, Response, Context> {
        ObservationMiddleware(metrics: metrics, audit: audit)
        AuthenticationMiddleware(authenticator: authenticator, authorizer: authorizer)
        InflightLimitMiddleware(limiter: limiter)
        AuthorizationMiddleware(authorizer: authorizer)
    }

    /// The answer to a request the front let through: public documents, metrics APIs, or a
    /// resource endpoint. The record's `user` is nil only for public paths.
    func route(_ request: Request, context: Context) async throws -> Response {
        let record = try context.requireRecord()
        let parsed = record.parsed
        let user = record.user
        var label = record.label
        defer { record.label = label }
        let path = parsed.path
        let query = parsed.query
        let surface = registry.surface.current
        let (discovery, openAPI, openAPIV2) = (surface.discovery, surface.openAPI, surface.openAPIV2)
        let aggregation = aggregated.map { AggregationRoutes(registry: registry, apis: $0) }
        if path == "/apis" || path == "/apis/" {
            var list = try await metricsAPIs?.answer(method: "GET", path: path, query: query, body: { .null }, discovery: discovery)
                ?? discovery.groupList()
            aggregation?.merge(into: &list, discovery: discovery)
            return ResponseBuilder.json(list)
        }
        if let aggregation, let answer = try await aggregation.respond(request, parsed: parsed, user: user, discovery: discovery) {
            return answer
        }
        if let metricsAPIs, let answer = try await metricsAPIs.respond(request, parsed: parsed, discovery: discovery) {
            return answer
        }
        switch path {
        case "/healthz", "/livez": return ResponseBuilder.text("ok")
        case "/readyz":
            return health.isReady ? ResponseBuilder.text("ok") : ResponseBuilder.text("[-]store not ready\nreadyz check failed", code: 500)
        case "/version", "/version/": return ResponseBuilder.json(Discovery.version)
        case "/metrics": return ResponseBuilder.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/api", "/api/": return ResponseBuilder.json(discovery.coreVersions(host: request.head.authority))
        case "/openapi/v3", "/openapi/v3/": return ResponseBuilder.json(openAPI.root())
        case "/openapi/v2":
            // kubectl asks for gnostic protobuf; anything else gets the JSON form. Like
            // kube-openapi, protobuf goes out as octet-stream: client-go's mime parser rejects
            // the `@v1.0` in the requested media type.
            if request.headers[.accept]?.contains("application/com.github.proto-openapi.spec.v2") == true {
                var r = ResponseBuilder.raw(openAPIV2.protobuf())
                r.headers[.contentType] = "application/octet-stream"
                return r
            }
            return ResponseBuilder.json(openAPIV2.json())
        default: break
        }
        if path.hasPrefix("/openapi/v3/") {
            let docPath = String(path.dropFirst("/openapi/v3/".count))
            guard let doc = openAPI.built(path: docPath) else { throw APIError.pathNotFound() }
            return ResponseBuilder.raw(doc.bytes, extraHeaders: [("Cache-Control", "public, immutable")])
        }
        if let discoveryDoc = discovery.document(path: path) { return ResponseBuilder.json(discoveryDoc) }
        guard let info = parsed.info else { throw APIError.pathNotFound() }
        guard let strategy = surface.catalog.strategy(group: info.group, version: info.version, plural: info.resource) else {
            throw APIError.pathNotFound()
        }
        let def = strategy.definition
        label.resource = def.plural
        label.subresource = info.subresource ?? ""
        if !def.namespaced && info.namespace != nil { throw APIError.pathNotFound() }
        if let sub = info.subresource, !def.subresources.contains(where: { $0.rawValue == sub }) { throw APIError.pathNotFound() }
        var request = request
        if let user {
            request = try await EscalationCheck.check(request, info: info, query: query, strategy: strategy, registry: registry,
                                                      user: user, authorizer: authorizer)
        }
        let endpoint = ResourceEndpoint(registry: registry, strategy: strategy, info: info, query: query, request: request, user: user,
                                        authorizer: authorizer)
        return try await endpoint.serve(label: &label)
    }
}

/// Whether the server has finished starting.
public final class HealthState: Sendable {
    private let ready = Locked(false)
    public init() {}
    public var isReady: Bool { ready.value }
    public func markReady() { ready.value = true }
}
