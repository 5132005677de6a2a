import Foundation

extension ResourcePath {
    /// The coordinates of a resource URL path, the inverse of `path`: `/api/v1/namespaces/ns/pods/p/status`,
    /// `/apis/apps/v1/deployments`, a Namespace (`/api/v1/namespaces/ns`, `…/ns/finalize`).
    /// Nil for anything else (discovery documents, `/healthz`).
    public init?(parsing urlPath: String) {
        let trimmed = urlPath.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        var segments = trimmed.split(separator: "/", omittingEmptySubsequences: true)
            .map { String($0).removingPercentEncoding ?? String($0) }
        let group: String
        switch segments.first {
        case "api"?:
            guard segments.count >= 3 else { return nil }
            group = ""
            segments.removeFirst()
        case "apis"?:
            guard segments.count >= 4 else { return nil }
            group = segments[1]
            segments.removeFirst(2)
        default:
            return nil
        }
        let version = segments.removeFirst()
        var namespace: String?
        // `namespaces/ns/<plural>…` is namespaced; `namespaces[/ns[/status|finalize]]` is the
        // Namespace resource itself.
        let namespaceSubresource = segments.count == 3 && ["status", "finalize"].contains(segments[2])
        if segments.count >= 3, segments[0] == "namespaces", !namespaceSubresource {
            namespace = segments[1]
            segments.removeFirst(2)
        }
        guard (1...3).contains(segments.count) else { return nil }
        self.init(group: group, version: version, plural: segments[0], namespace: namespace,
                  name: segments.count > 1 ? segments[1] : nil, subresource: segments.count > 2 ? segments[2] : nil)
    }
}
