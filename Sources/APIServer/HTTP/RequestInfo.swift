/// What a resource request addresses, read from its path as kube-apiserver's RequestInfo does:
/// `/api/v1/namespaces/ns/pods/name/status`, `/apis/apps/v1/deployments`, and the old
/// `/api/v1/watch/...` form.
public struct RequestInfo: Sendable, Equatable {
    public var group: String
    public var version: String
    public var namespace: String?
    public var resource: String
    public var name: String?
    public var subresource: String?
    /// Set by the legacy `/watch/` path prefix.
    public var legacyWatch = false

    /// Parses a resource path; nil when the path names no resource (discovery paths included).
    public static func parse(path: String) -> RequestInfo? {
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
        var info = RequestInfo(group: group, version: version, namespace: nil, resource: "", name: nil, subresource: nil)
        info.legacyWatch = watch
        // `namespaces/{ns}/{resource}...`, except `namespaces/{name}[/status|finalize]` itself.
        if parts[0] == "namespaces", parts.count >= 3, parts[2] != "status", parts[2] != "finalize" {
            info.namespace = parts[1]
            parts.removeFirst(2)
        }
        info.resource = parts[0]
        if parts.count > 1 { info.name = parts[1] }
        if parts.count > 2 { info.subresource = parts[2] }
        if parts.count > 3 { return nil }
        if info.resource.isEmpty { return nil }
        return info
    }
}
