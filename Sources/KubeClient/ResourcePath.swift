/// Builds REST paths such as `/api/v1/namespaces/ns/configmaps/name` or
/// `/apis/apps/v1/deployments` from a resource's coordinates.
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
    static func escapeSegment(_ s: String) -> String { percentEncode(s) }
}

/// Percent-encodes a string, keeping only RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
func percentEncode(_ s: String) -> String {
    let hex = Array("0123456789ABCDEF".utf8)
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            out += "%"
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
            out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0x0F)]))
        }
    }
    return out
}
