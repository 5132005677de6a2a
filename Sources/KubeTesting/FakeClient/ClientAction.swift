import KubeClient
import KubeModel

/// One request a `RecordingClient` received (client-go's testing `Action`): the verb, the
/// resource and subresource, where, and the body sent.
public struct ClientAction: Sendable, Equatable, CustomStringConvertible {
    /// `get`, `list`, `create`, `update`, `patch` or `delete`.
    public var verb: String
    /// The collection: group, version and plural (no namespace or name).
    public var resource: ResourcePath
    /// `status`, `scale`, …; nil for the object itself.
    public var subresource: String?
    /// The namespace in the path; nil for cluster-scoped resources and all-namespace lists.
    public var namespace: String?
    /// The object's name; nil for collection requests and for creates (see `object`).
    public var name: String?
    /// What was sent: the object (create, update), the patch, or the `DeleteOptions`.
    public var object: JSONValue?
    /// For patches, their type.
    public var patchType: PatchType?
    /// Query parameters (e.g. `labelSelector`).
    public var query: [String: String]
    /// The path as given, for requests outside any resource (discovery documents).
    public var path: String

    /// An action with explicit fields (tests build expected actions this way).
    public init(verb: String, resource: ResourcePath, subresource: String? = nil, namespace: String? = nil, name: String? = nil,
                object: JSONValue? = nil, patchType: PatchType? = nil, query: [String: String] = [:], path: String = "") {
        self.verb = verb
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
        self.object = object
        self.patchType = patchType
        self.query = query
        self.path = path
    }

    /// Whether this is `verb` on `plural` (and `subresource`, when given), as client-go's
    /// `Action.Matches`.
    public func matches(_ verb: String, _ plural: String, subresource: String? = nil) -> Bool {
        self.verb == verb && resource.plural == plural && self.subresource == subresource
    }

    /// `verb plural[/subresource] namespace/name`, or `verb path` outside any resource.
    public var description: String {
        if resource.plural.isEmpty { return "\(verb) \(path)" }
        var s = "\(verb) \(resource.plural)"
        if let subresource { s += "/\(subresource)" }
        s += " " + [namespace, name ?? object?.name ?? object?[path: ["metadata", "generateName"]]?.stringValue.map { $0 + "*" }]
            .compactMap { $0 }.joined(separator: "/")
        return s
    }
}
