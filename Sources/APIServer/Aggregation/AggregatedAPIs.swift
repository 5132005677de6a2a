import Foundation
import KubeModel
import Synchronization

/// The group/versions served by other API servers, from the APIServices with a
/// `spec.service`: where requests under `/apis/GROUP/VERSION` are proxied to, and the
/// resource lists last fetched from each (what `/apis` and `kubectl api-resources` show).
/// Written by `APIServiceAvailability`, read by every request.
public final class AggregatedAPIs: Sendable {
    /// One remote group/version as its APIService describes it.
    struct Remote: Sendable, Equatable {
        var name: String
        var group: String
        var version: String
        var backend: APIServiceBackend
        var groupPriority: Int64
        var versionPriority: Int64
        /// The remote `APIResourceList`, nil until its discovery answered.
        var resources: JSONValue?
    }

    private let state = Mutex<[String: Remote]>([:])
    /// Identity of the API server towards backends (the front-proxy client certificate).
    let clientIdentity: FrontProxyIdentity?

    public init(clientIdentity: FrontProxyIdentity? = nil) {
        self.clientIdentity = clientIdentity
    }

    static func key(_ group: String, _ version: String) -> String { group + "/" + version }

    /// The remote serving `/apis/group/version`, if any.
    func remote(group: String, version: String) -> Remote? {
        state.withLock { $0[Self.key(group, version)] }
    }

    /// Replaces the table with what the APIServices now say.
    func replace(_ remotes: [Remote]) {
        var next: [String: Remote] = [:]
        for r in remotes { next[Self.key(r.group, r.version)] = r }
        state.withLock { $0 = next }
    }

    /// Remote groups whose discovery answered, versions by priority, groups by priority then name,
    /// leaving out groups the server serves itself (`local`).
    func groups(excluding local: Set<String>) -> [(name: String, versions: [String])] {
        let remotes = state.withLock { Array($0.values) }.filter { $0.resources != nil && !local.contains($0.group) }
        let byGroup = Dictionary(grouping: remotes, by: \.group)
        let ordered = byGroup.sorted { a, b in
            let pa = a.value.map(\.groupPriority).max() ?? 0
            let pb = b.value.map(\.groupPriority).max() ?? 0
            return pa != pb ? pa > pb : a.key < b.key
        }
        return ordered.map { entry in
            let versions = entry.value.sorted { x, y in
                x.versionPriority != y.versionPriority ? x.versionPriority > y.versionPriority
                    : CustomResourceStrategy.byPriority([x.version, y.version]).first == x.version
            }
            return (entry.key, versions.map(\.version))
        }
    }
}
