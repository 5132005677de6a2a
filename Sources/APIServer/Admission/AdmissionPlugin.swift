import KubeModel

/// What an admission plugin sees of a create: the object after defaulting, who asks, and
/// where. Plugins run only on creates (updates of the kinds they police are rare and would
/// need the store's synchronous update transaction); see docs/security.md.
public struct AdmissionRequest: Sendable {
    public var resource: ResourceDefinition
    public var namespace: String?
    public var name: String
    /// The object in its storage version; mutating plugins change it.
    public var object: JSONValue
    /// The authenticated caller; nil inside the server (bootstrap) or with `--tls=false`.
    public var user: UserInfo?
    public var dryRun: Bool
    /// Warnings for the client (`Warning` headers), e.g. PodSecurity's warn mode.
    public var warnings: [String] = []

    public init(resource: ResourceDefinition, namespace: String?, name: String, object: JSONValue, user: UserInfo?, dryRun: Bool) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.object = object
        self.user = user
        self.dryRun = dryRun
    }

    /// `group/resource` as in RBAC: "pods", "apps/deployments".
    public var groupResource: String { resource.groupResource }
}

/// One admission controller (ServiceAccount, PodSecurity, LimitRanger, ResourceQuota…).
/// `admit` may change the object (mutating phase, before validation); `validate` only
/// accepts or refuses it (after validation, before the write). Refusals are `APIError`s:
/// 403 Forbidden as Kubernetes answers admission denials, or 422 for invalid values.
public protocol AdmissionPlugin: Sendable {
    var name: String { get }
    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError)
    func validate(_ request: AdmissionRequest, registry: Registry) async throws(APIError)
}

extension AdmissionPlugin {
    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {}
    public func validate(_ request: AdmissionRequest, registry: Registry) async throws(APIError) {}
}

/// The plugins in order: every mutating phase first, then every validating phase.
public struct AdmissionChain: Sendable {
    public var plugins: [any AdmissionPlugin]

    public init(_ plugins: [any AdmissionPlugin] = []) { self.plugins = plugins }

    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        for p in plugins { try await p.admit(&request, registry: registry) }
    }

    func validate(_ request: AdmissionRequest, registry: Registry) async throws(APIError) {
        for p in plugins { try await p.validate(request, registry: registry) }
    }
}
