import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// The HTTP front of the API server: health, version, discovery, OpenAPI and metrics, and
/// every resource request, answered with Kubernetes `Status` errors on failure.
public struct APIResponder: HTTPResponder {
    public typealias Context = APIRequestContext

    let registry: Registry
    let discovery: Discovery
    let openAPI: OpenAPIDocuments
    /// Swagger 2.0 document kubectl's client-side validation falls back to.
    let openAPIV2: OpenAPIV2Document
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
    /// Largest request body accepted, as kube-apiserver's 3 MiB.
    static let maxBodyBytes = 3 * 1024 * 1024

    public init(registry: Registry, openAPI: OpenAPIDocuments, metrics: RequestMetrics, health: HealthState,
                authenticator: Authenticator, authorizer: any Authorizer = AlwaysAllowAuthorizer(), audit: AuditLog? = nil,
                limiter: InflightLimiter = InflightLimiter(), metricsAPIs: MetricsAPIs? = nil) {
        self.metricsAPIs = metricsAPIs
        self.audit = audit
        self.limiter = limiter
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.registry = registry
        self.discovery = Discovery(catalog: registry.catalog)
        self.openAPI = openAPI
        self.openAPIV2 = OpenAPIV2Document(definitions: registry.catalog.strategies.map(\.definition))
        self.metrics = metrics
        self.health = health
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        try await ResponseBuilder.$servesYAML.withValue(MediaTypes.prefersYAML(accept: request.headers[.accept])) {
            try await ConnectionHangUp.$channel.withValue(context.channel) {
                try await respondNegotiated(to: request, context: context)
            }
        }
    }

    func respondNegotiated(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var label = RequestLabel(verb: request.method.rawValue, resource: "", subresource: "")
        let received = Date()
        var response: Response
        var caller: UserInfo?
        var user: UserInfo?
        let parsed = ParsedRequest(request)
        do {
            // Health and version stay public so probes and load balancers need no credentials.
            if !Authenticator.isPublic(parsed.path) {
                guard let authenticated = await authenticator.authenticate(authorization: request.headers[.authorization],
                                                                           peerCertificate: { await context.peerCertificate() })
                        ?? Authenticator.anonymousUser(method: request.method.rawValue, path: parsed.path) else {
                    throw APIError.unauthorized
                }
                caller = authenticated
                user = try await Impersonation.resolve(request, caller: authenticated, authorizer: authorizer)
            }
            if let user {
                response = try await limited(request, parsed, user: user, label: &label)
            } else {
                response = try await route(request, parsed, user: nil, label: &label)
            }
        } catch let e as APIError {
            response = ResponseBuilder.error(e)
        } catch let e as QueryParameterError {
            response = ResponseBuilder.error(APIError(e))
        } catch {
            response = ResponseBuilder.error(.internalError(String(describing: error)))
        }
        metrics.observe(label, code: response.status.code, duration: ContinuousClock.now - start)
        // Probes are not audited: they would drown the log.
        if let audit, !Authenticator.isPublic(parsed.path) {
            audit.record(.of(request, parsed: parsed, context: context, caller: caller, user: user, code: response.status.code,
                             received: received))
        }
        return response
    }

    /// `route` within the in-flight caps: watches against the user's watch cap, held until the
    /// stream ends; anything else against its pool while the handler runs.
    func limited(_ request: Request, _ parsed: ParsedRequest, user: UserInfo, label: inout RequestLabel) async throws -> Response {
        if parsed.isWatch {
            guard limiter.acquireWatch(user: user.name) else { throw InflightLimiter.tooManyRequests() }
            let slot = WatchSlot(limiter: limiter, user: user.name)
            return try await route(request, parsed, user: user, label: &label).holding(slot)
        }
        let kind = InflightLimiter.Kind(method: request.method.rawValue)
        guard limiter.acquire(kind) else { throw InflightLimiter.tooManyRequests() }
        defer { limiter.release(kind) }
        return try await route(request, parsed, user: user, label: &label)
    }

    /// `user` is nil only for public paths, which need no authorization.
    func route(_ request: Request, _ parsed: ParsedRequest, user: UserInfo? = nil, label: inout RequestLabel) async throws -> Response {
        let path = parsed.path
        let query = parsed.query
        if let bad = query.malformed { throw APIError.badRequest(bad) }
        if let user { try await authorize(request, parsed, user: user) }
        if let metricsAPIs, let answer = try await metricsAPIs.respond(request, path: path, query: query, discovery: discovery) {
            return answer
        }
        switch path {
        case "/healthz", "/livez": return ResponseBuilder.text("ok")
        case "/readyz":
            return health.isReady ? ResponseBuilder.text("ok") : ResponseBuilder.text("[-]store not ready\nreadyz check failed", code: 500)
        case "/version", "/version/": return ResponseBuilder.json(Discovery.version)
        case "/metrics": return ResponseBuilder.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/api", "/api/": return ResponseBuilder.json(discovery.coreVersions(host: request.head.authority))
        case "/apis", "/apis/": return ResponseBuilder.json(discovery.groupList())
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
        guard let strategy = registry.catalog.strategy(group: info.group, version: info.version, plural: info.resource) else {
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

    /// Authorization after authentication and before the registry: 403 as kube-apiserver words it.
    func authorize(_ request: Request, _ parsed: ParsedRequest, user: UserInfo) async throws {
        var attributes: RequestAttributes
        if let info = parsed.info {
            attributes = .resource(user: user, method: request.method.rawValue, info: info, watch: parsed.watchParameter)
            // An authorizer may judge a list by its field selector.
            attributes.fieldSelector = parsed.query["fieldSelector"] ?? ""
        } else {
            attributes = RequestAttributes(user: user, verb: request.method == .head ? "get" : request.method.rawValue.lowercased(),
                                           path: parsed.path)
        }
        let decision = await authorizer.authorize(attributes)
        if !decision.allowed { throw APIError.forbidden(attributes, reason: decision.reason) }
    }
}

/// Whether the server has finished starting.
public final class HealthState: Sendable {
    private let ready = Locked(false)
    public init() {}
    public var isReady: Bool { ready.value }
    public func markReady() { ready.value = true }
}
