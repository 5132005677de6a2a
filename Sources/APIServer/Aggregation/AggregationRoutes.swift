import Foundation
import Hummingbird
import KubeModel

/// Where aggregated group/versions meet the responder: the `/apis` list gains the remote
/// groups, `/apis/GROUP` of a remote group is answered here, and everything under
/// `/apis/GROUP/VERSION` of a remote APIService is proxied to its backend.
struct AggregationRoutes {
    let registry: Registry
    let apis: AggregatedAPIs

    /// Adds the remote groups to an `APIGroupList` built from the local ones.
    func merge(into list: inout JSONValue, discovery: Discovery) {
        var groups = list["groups"]?.arrayValue ?? []
        let local = Set(groups.compactMap { $0["name"]?.stringValue })
        for g in apis.groups(excluding: local) { groups.append(discovery.group(g)) }
        list["groups"] = .array(groups)
    }

    /// The answer for a path of a remote group, or nil when the path is not one.
    func respond(_ request: Request, parsed: ParsedRequest, user: UserInfo?, discovery: Discovery) async throws -> Response? {
        let parts = parsed.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.count >= 2, parts[0] == "apis" else { return nil }
        if parts.count == 2 {
            guard discovery.document(path: parsed.path) == nil,
                  let g = apis.groups(excluding: []).first(where: { $0.name == parts[1] }) else { return nil }
            var doc = discovery.group(g)
            doc["kind"] = "APIGroup"
            doc["apiVersion"] = "v1"
            return ResponseBuilder.json(doc)
        }
        guard let remote = apis.remote(group: parts[1], version: parts[2]) else { return nil }
        return try await APIServiceProxy(registry: registry, apis: apis).forward(request, remote: remote, user: user, isWatch: parsed.isWatch)
    }
}
