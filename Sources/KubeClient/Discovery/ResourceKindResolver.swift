import Foundation
import KubeModel
import NIOConcurrencyHelpers

/// Finds the resource (plural) that serves a kind in an API group version, through the API
/// server's discovery documents, as Kubernetes' REST mapper does. Answers are cached; a kind
/// not found is looked up again next time (a CRD may appear).
public final class ResourceKindResolver: Sendable {
    public struct Resolution: Sendable, Equatable {
        public var resource: ResourcePath
        public var hasScale: Bool
    }

    /// The API version names no resource of that kind (or is malformed).
    public struct KindNotFound: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    private let client: any ResourceClient
    private let cache = NIOLockedValueBox<[String: Resolution]>([:])

    public init(client: any ResourceClient) { self.client = client }

    /// The collection path of `kind` in `apiVersion` (`group/version`, or `v1` for core).
    public func resolve(apiVersion: String, kind: String) async throws -> Resolution {
        let key = "\(apiVersion)/\(kind)"
        if let hit = cache.withLockedValue({ $0[key] }) { return hit }
        let parts = apiVersion.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !kind.isEmpty, parts.count <= 2, !(parts.last ?? "").isEmpty else {
            throw KindNotFound(description: "invalid API version \"\(apiVersion)\" for kind \"\(kind)\"")
        }
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
        let doc = try await client.get(group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)")
        let resources = doc["resources"]?.arrayValue ?? []
        guard let main = resources.first(where: { $0["kind"]?.stringValue == kind && !($0["name"]?.stringValue ?? "/").contains("/") }),
              let plural = main["name"]?.stringValue else {
            throw KindNotFound(description: "no matches for kind \"\(kind)\" in version \"\(apiVersion)\"")
        }
        let hasScale = resources.contains { $0["name"]?.stringValue == "\(plural)/scale" }
        let r = Resolution(resource: ResourcePath(group: group, version: version, plural: plural), hasScale: hasScale)
        cache.withLockedValue { $0[key] = r }
        return r
    }
}
