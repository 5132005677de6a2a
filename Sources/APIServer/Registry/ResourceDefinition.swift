import KubeModel

/// The static facts about one served resource: what discovery lists and the router needs.
public struct ResourceDefinition: Sendable {
    /// API group; "" for the core group.
    public var group: String
    /// Served versions, the preferred first.
    public var versions: [String]
    /// Version objects are stored in (and converted from on read).
    public var storageVersion: String
    public var kind: String
    /// URL segment, e.g. `deployments`.
    public var plural: String
    public var singular: String
    public var shortNames: [String]
    public var namespaced: Bool
    /// Discovery categories; `all` makes `kubectl get all` include the resource.
    public var categories: [String]
    public var subresources: Set<Subresource>
    /// Name of the type in the Kubernetes schema per version, e.g. `io.k8s.api.apps.v1.Deployment`.
    public var schemaNames: [String: String]

    public init(
        group: String, versions: [String], storageVersion: String? = nil, kind: String, plural: String,
        singular: String? = nil, shortNames: [String] = [], namespaced: Bool, categories: [String] = [],
        subresources: Set<Subresource> = [], schemaNames: [String: String]
    ) {
        self.group = group
        self.versions = versions
        self.storageVersion = storageVersion ?? versions[0]
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.shortNames = shortNames
        self.namespaced = namespaced
        self.categories = categories
        self.subresources = subresources
        self.schemaNames = schemaNames
    }

    /// `apiVersion` string for a version of this resource: `v1` or `apps/v1`.
    public func apiVersion(_ version: String) -> String {
        group.isEmpty ? version : "\(group)/\(version)"
    }

    /// `deployments.apps`, the form Kubernetes uses in messages.
    public var groupResource: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// `Deployment.apps`, the qualified kind used in "is invalid" messages.
    public var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }
}
