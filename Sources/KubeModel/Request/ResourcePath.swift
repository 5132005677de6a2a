import Foundation
/// A resource's REST path, such as `/api/v1/namespaces/ns/configmaps/name` or
/// `/apis/apps/v1/deployments`: built by clients, parsed by the API server.
public struct ResourcePath: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core (legacy `/api`) group.
    public var group: String
    /// API version, e.g. `v1`.
    public var version: String
    /// Lower-case plural resource name, e.g. `configmaps`.
    public var plural: String
    /// `nil` for cluster-scoped resources and for lists across all namespaces.
    public var namespace: String?
    /// `nil` for collection paths (list, create, watch).
    public var name: String?
    /// e.g. `status` or `scale`; only meaningful with a name.
    public var subresource: String?

    /// A path from its parts; `namespace`, `name` and `subresource` are optional.
    public init(group: String = "", version: String = "v1", plural: String,
                namespace: String? = nil, name: String? = nil, subresource: String? = nil) {
        self.group = group
        self.version = version
        self.plural = plural
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
    }

    /// A core-group (`/api/v1`) resource.
    public static func core(_ plural: String, namespace: String? = nil, name: String? = nil) -> ResourcePath {
        ResourcePath(plural: plural, namespace: namespace, name: name)
    }

    /// The same resource with `name` set (collection path → object path).
    public func named(_ name: String) -> ResourcePath {
        var p = self
        p.name = name
        return p
    }

    /// The same resource in `namespace`.
    public func inNamespace(_ namespace: String?) -> ResourcePath {
        var p = self
        p.namespace = namespace
        return p
    }

    /// The URL path, with each segment percent-encoded.
    public var path: String {
        var segments = group.isEmpty ? ["api", version] : ["apis", group, version]
        if let namespace, !namespace.isEmpty { segments += ["namespaces", namespace] }
        segments.append(plural)
        if let name, !name.isEmpty {
            segments.append(name)
            if let subresource, !subresource.isEmpty { segments.append(subresource) }
        }
        return "/" + segments.map(Self.escapeSegment).joined(separator: "/")
    }

    public var description: String { path }

    /// Percent-encodes everything but RFC 3986 unreserved characters, so a segment can never
    /// introduce `/`, `?` or `#`.
    static func escapeSegment(_ s: String) -> String { PercentEncoding.encode(s) }

    /// A client's reading of a URL it built, the inverse of `path`: the query ignored, segments
    /// percent-decoded; nil for paths that name no resource and for the legacy watch form.
    public init?(parsing url: String) {
        let pathOnly = url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let (p, legacy) = Self.parse(pathOnly), !legacy else { return nil }
        func decoded(_ s: String) -> String { s.removingPercentEncoding ?? s }
        self.init(group: p.group, version: p.version, plural: decoded(p.plural), namespace: p.namespace.map(decoded),
                  name: p.name.map(decoded), subresource: p.subresource.map(decoded))
    }

    /// Parses a resource path as kube-apiserver's RequestInfo does (segments as they are, not
    /// decoded); nil when the path names no resource (discovery paths included). `legacyWatch`
    /// is set by the old `/api/v1/watch/...` form.
    public static func parse(_ path: String) -> (path: ResourcePath, legacyWatch: Bool)? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let prefix = parts.first else { return nil }
        parts.removeFirst()
        let group: String
        if prefix == "api" {
            group = ""
        } else if prefix == "apis" {
            guard !parts.isEmpty else { return nil }
            group = parts.removeFirst()
        } else {
            return nil
        }
        guard !parts.isEmpty else { return nil }
        let version = parts.removeFirst()
        var watch = false
        if parts.first == "watch" { watch = true; parts.removeFirst() }
        guard !parts.isEmpty else { return nil }
        var namespace: String?
        // `namespaces/{ns}/{resource}...`, except `namespaces/{name}[/status|finalize]` itself.
        if parts[0] == "namespaces", parts.count >= 3, parts[2] != "status", parts[2] != "finalize" {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard parts.count <= 3, !parts[0].isEmpty else { return nil }
        let p = ResourcePath(group: group, version: version, plural: parts[0], namespace: namespace,
                             name: parts.count > 1 ? parts[1] : nil, subresource: parts.count > 2 ? parts[2] : nil)
        return (p, watch)
    }
}
