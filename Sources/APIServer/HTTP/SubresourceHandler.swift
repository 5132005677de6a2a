import Hummingbird

/// One subresource a kind serves at `.../{name}/{subresource}`: the methods it answers (each
/// with the verb request metrics record) and the code answering them. A strategy lists its
/// handlers in `subresourceHandlers`; `status` and `scale` are generic, any kind opts in.
public struct SubresourceHandler: Sendable {
    /// The path segment served.
    public let subresource: Subresource
    /// Methods answered, each with its metrics verb; any other method gets 405.
    let methods: [HTTPRequest.Method: String]
    let serve: @Sendable (ResourceEndpoint, _ name: String) async throws -> Response

    init(_ subresource: Subresource, methods: [HTTPRequest.Method: String],
         serve: @escaping @Sendable (ResourceEndpoint, _ name: String) async throws -> Response) {
        self.subresource = subresource
        self.methods = methods
        self.serve = serve
    }

    /// GET, PUT and PATCH (apply included) of an object's `status`, through the registry.
    public static let status = SubresourceHandler(.status, methods: [.get: "GET", .put: "PUT", .patch: "PATCH"]) { endpoint, name in
        switch endpoint.request.method {
        case .get: return try await endpoint.get(name)
        case .put: return try await endpoint.update(name, target: .status)
        default: return try await endpoint.patch(name, target: .status)
        }
    }

    /// The autoscaling/v1 Scale view of an object with `spec.replicas`: GET, PUT and PATCH.
    public static let scale = SubresourceHandler(.scale, methods: [.get: "GET", .put: "PUT", .patch: "PATCH"]) { endpoint, name in
        let info = endpoint.info
        let registry = endpoint.registry
        switch endpoint.request.method {
        case .get:
            return ResponseBuilder.json(try await registry.getScale(endpoint.strategy, namespace: info.namespace, name: name))
        case .put:
            let scale = try await endpoint.body()
            let r = try await registry.updateScale(endpoint.strategy, version: info.version, namespace: info.namespace, name: name,
                                                   options: try endpoint.writeOptions()) { _ in scale }
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        default:
            let (patch, type) = try await endpoint.patchBody()
            guard type != .apply else { throw APIError.unsupportedMediaType(type.rawValue) }
            let r = try await registry.updateScale(endpoint.strategy, version: info.version, namespace: info.namespace, name: name,
                                                   options: try endpoint.writeOptions()) { scale in
                try Registry.applyPatch(patch, type: type == .strategicMerge ? .merge : type, to: scale, typeName: nil)
            }
            return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
        }
    }
}
