import KubeModel

/// Discovery (`/api`, `/apis`, `/api/v1`, `/apis/G/V`) through kubectl's disk cache.
///
/// The group list and each group-version's resource list are read from the cache while fresh
/// and fetched (resource lists in parallel) otherwise. The core group is listed first, with
/// the empty name, as kubectl stores it.
public struct DiscoveryClient: Sendable {
    public let client: KubeRESTClient
    public let cache: DiscoveryCache?

    public init(client: KubeRESTClient, cache: DiscoveryCache?) {
        self.client = client
        self.cache = cache
    }

    /// The `APIGroupList` including the core group.
    public func serverGroups() async throws -> JSONValue {
        if let cache, let cached = cache.read(cache.groupsFile), cached["groups"]?.arrayValue != nil { return cached }
        async let core = client.get("/api")
        async let named = client.get("/apis")
        let coreVersions = try await core["versions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var groups: [JSONValue] = []
        if !coreVersions.isEmpty {
            let versions = coreVersions.map { JSONValue.object(["groupVersion": .string($0), "version": .string($0)]) }
            groups.append(.object(["name": "", "versions": .array(versions), "preferredVersion": versions[0]]))
        }
        groups += try await named["groups"]?.arrayValue ?? []
        let list: JSONValue = .object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)])
        if let cache { cache.write(list, to: cache.groupsFile) }
        return list
    }

    /// Every group-version, preferred version of each group first, in server order.
    public func groupVersions() async throws -> [(group: String, version: String, preferred: Bool)] {
        var out: [(String, String, Bool)] = []
        for g in try await serverGroups()["groups"]?.arrayValue ?? [] {
            let name = g["name"]?.stringValue ?? ""
            let versions = g["versions"]?.arrayValue?.compactMap { $0["version"]?.stringValue } ?? []
            let preferred = g["preferredVersion"]?["version"]?.stringValue ?? versions.first ?? ""
            if !preferred.isEmpty { out.append((name, preferred, true)) }
            for v in versions where v != preferred { out.append((name, v, false)) }
        }
        return out
    }

    /// The `APIResourceList` of one group-version.
    public func resourceList(group: String, version: String) async throws -> JSONValue {
        let gv = group.isEmpty ? version : group + "/" + version
        if let cache, let cached = cache.read(cache.resourcesFile(groupVersion: gv)) { return cached }
        let list = try await client.get(group.isEmpty ? "/api/" + version : "/apis/" + gv)
        if let cache { cache.write(list, to: cache.resourcesFile(groupVersion: gv)) }
        return list
    }

    /// All resources (subresources included), grouped as `groupVersions()` orders them.
    public func resources() async throws -> DiscoveredResources {
        let gvs = try await groupVersions()
        let lists = try await withThrowingTaskGroup(of: (Int, JSONValue?).self) { group in
            for (i, gv) in gvs.enumerated() {
                group.addTask {
                    // A group-version that fails (an unavailable aggregated API) is left out, as kubectl does.
                    (i, try? await resourceList(group: gv.group, version: gv.version))
                }
            }
            var out = [JSONValue?](repeating: nil, count: gvs.count)
            for try await (i, list) in group { out[i] = list }
            return out
        }
        var all: [DiscoveredResources.Entry] = []
        for (i, gv) in gvs.enumerated() {
            for r in lists[i]?["resources"]?.arrayValue ?? [] {
                if let info = APIResourceInfo(json: r, group: gv.group, version: gv.version) {
                    all.append(.init(resource: info, preferred: gv.preferred))
                }
            }
        }
        return DiscoveredResources(entries: all)
    }

    /// Forgets the cached files so that the next call asks the server.
    public func invalidate() { cache?.invalidate() }
}

/// The result of discovery: every resource with whether its version is its group's preferred one.
public struct DiscoveredResources: Sendable {
    public struct Entry: Sendable {
        public var resource: APIResourceInfo
        public var preferred: Bool
    }
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Top-level resources of preferred versions, in server order (what `api-resources` lists).
    public var preferred: [APIResourceInfo] {
        entries.filter { $0.preferred && !$0.resource.isSubresource }.map(\.resource)
    }
}
