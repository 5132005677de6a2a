import KubeModel

/// What an admission plugin sees of a write: the operation, the object after defaulting (and
/// the stored one on update and delete), who asks, and where. Creates, updates (PUT, PATCH,
/// apply, and their subresources) and deletes are admitted; see docs/security.md.
public struct AdmissionRequest: Sendable {
    /// The kind of write, as Kubernetes' admission `operation`.
    public enum Operation: String, Sendable {
        case create = "CREATE", update = "UPDATE", delete = "DELETE"
    }

    public var operation: Operation
    public var resource: ResourceDefinition
    /// The subresource written (`status`, `finalize`), nil for the object itself.
    public var subresource: String?
    public var namespace: String?
    public var name: String
    /// The object in its storage version; mutating plugins change it. On delete, the object
    /// being deleted.
    public var object: JSONValue
    /// The stored object an update or delete starts from; nil on create.
    public var oldObject: JSONValue?
    /// The authenticated caller; nil inside the server (bootstrap) or with `--tls=false`.
    public var user: UserInfo?
    public var dryRun: Bool
    /// Warnings for the client (`Warning` headers), e.g. PodSecurity's warn mode.
    public var warnings: [String] = []

    public init(resource: ResourceDefinition, namespace: String?, name: String, object: JSONValue, user: UserInfo?, dryRun: Bool,
                operation: Operation = .create, oldObject: JSONValue? = nil, subresource: String? = nil) {
        self.operation = operation
        self.oldObject = oldObject
        self.subresource = subresource
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
/// `admit` may change the object (mutating phase, before validation; not run on delete);
/// `validate` only accepts or refuses it (after validation, before the write; it may add
/// warnings). Each plugin
/// picks the operations it acts on, as its Kubernetes counterpart does. Refusals are `APIError`s:
/// 403 Forbidden as Kubernetes answers admission denials, or 422 for invalid values.
public protocol AdmissionPlugin: Sendable {
    var name: String { get }
    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError)
    func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError)
}

extension AdmissionPlugin {
    public func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {}
    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {}
}

/// The plugins in order: every mutating phase first, then every validating phase.
public struct AdmissionChain: Sendable {
    public var plugins: [any AdmissionPlugin]

    public init(_ plugins: [any AdmissionPlugin] = []) { self.plugins = plugins }

    func admit(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        for p in plugins { try await p.admit(&request, registry: registry) }
    }

    func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        for p in plugins { try await p.validate(&request, registry: registry) }
    }
}
