import Hummingbird
import KubeModel

/// The subresources of a CertificateSigningRequest: `status` (where the signer puts the
/// certificate) and `approval` (GET, and PUT of the Approved/Denied conditions).
extension CertificateSigningRequestStrategy {
    public var subresourceHandlers: [SubresourceHandler] { [.status, Self.approval] }

    static let approval = SubresourceHandler(.approval, methods: [.get: "GET", .put: "PUT"]) { endpoint, name in
        guard endpoint.request.method == .put else { return try await endpoint.get(name) }
        let r = try await updateApproval(endpoint.registry, strategy: endpoint.strategy, version: endpoint.info.version, name: name,
                                         body: try await endpoint.body(), options: try endpoint.writeOptions())
        return ResponseBuilder.json(r.object, code: r.code, warnings: r.warnings)
    }

    /// PUT `.../{name}/approval`: only `status.conditions` change; the certificate and spec
    /// stay as stored, so an approver can never issue.
    static func updateApproval(_ registry: Registry, strategy: any ResourceStrategy, version: String, name: String,
                               body: JSONValue, options: WriteOptions) async throws(APIError) -> WriteResult {
        let conditions = body[path: ["status", "conditions"]]
        let rv = body.resourceVersion
        return try await registry.guaranteedUpdate(strategy, version: version, namespace: nil, name: name, target: .status,
                                                   options: options) { current in
            var o = current
            o[path: ["status", "conditions"]] = conditions
            if let rv { o[path: ["metadata", "resourceVersion"]] = .string(rv) }
            return o
        }
    }
}
