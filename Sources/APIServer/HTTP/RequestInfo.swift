import KubeModel

/// What a resource request addresses: the `ResourcePath` its URL parses to (KubeModel's, the
/// one clients build) plus the old `/api/v1/watch/...` form only a server reads.
public struct RequestInfo: Sendable, Equatable {
    public var path: ResourcePath
    /// Set by the legacy `/watch/` path prefix.
    public var legacyWatch = false

    public var group: String {
        get { path.group }
        set { path.group = newValue }
    }
    public var version: String {
        get { path.version }
        set { path.version = newValue }
    }
    public var namespace: String? {
        get { path.namespace }
        set { path.namespace = newValue }
    }
    public var resource: String {
        get { path.plural }
        set { path.plural = newValue }
    }
    public var name: String? {
        get { path.name }
        set { path.name = newValue }
    }
    public var subresource: String? {
        get { path.subresource }
        set { path.subresource = newValue }
    }

    public init(group: String, version: String, namespace: String?, resource: String, name: String?, subresource: String?) {
        path = ResourcePath(group: group, version: version, plural: resource, namespace: namespace, name: name, subresource: subresource)
    }

    /// Parses a resource path; nil when the path names no resource (discovery paths included).
    public static func parse(path: String) -> RequestInfo? {
        guard let (p, watch) = ResourcePath.parse(path) else { return nil }
        var info = RequestInfo(group: p.group, version: p.version, namespace: p.namespace, resource: p.plural, name: p.name,
                               subresource: p.subresource)
        info.legacyWatch = watch
        return info
    }
}
