/// Resolves what a user types for a resource (`po`, `pods`, `pod`, `Pod`, `deploy`,
/// `deployments.apps`, `deployment.v1.apps`, or a category such as `all`) to served
/// resources, as kubectl does: categories and short names first, then plural, singular or
/// kind (case-insensitive), the first match in discovery's priority order winning.
public struct RESTMapper: Sendable {
    public let resources: DiscoveredResources

    public init(resources: DiscoveredResources) { self.resources = resources }

    /// The resources `argument` names: one, or several for a category. Throws when none match.
    public func resolve(_ argument: String) throws(RESTMapperError) -> [APIResourceInfo] {
        let arg = argument.lowercased()
        let top = resources.entries.filter { !$0.resource.isSubresource }
        if !arg.contains(".") {
            let inCategory = top.filter { $0.preferred && $0.resource.categories.contains(arg) }.map(\.resource)
            if !inCategory.isEmpty { return inCategory }
        }
        if let one = resolveOne(arg, in: top) { return [one] }
        throw RESTMapperError(argument: argument)
    }

    /// The single resource `argument` names (categories are not resources).
    public func resource(_ argument: String) throws(RESTMapperError) -> APIResourceInfo {
        let top = resources.entries.filter { !$0.resource.isSubresource }
        guard let one = resolveOne(argument.lowercased(), in: top) else { throw RESTMapperError(argument: argument) }
        return one
    }

    /// The resource serving `kind` in `apiVersion` (`apps/v1`), for objects read from files.
    public func resource(apiVersion: String, kind: String) -> APIResourceInfo? {
        let (group, version) = Self.splitGroupVersion(apiVersion)
        return resources.entries.first {
            !$0.resource.isSubresource && $0.resource.kind == kind && $0.resource.group == group && $0.resource.version == version
        }?.resource
    }

    /// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
    public static func splitGroupVersion(_ apiVersion: String) -> (group: String, version: String) {
        guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
        return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
    }

    private func resolveOne(_ arg: String, in top: [DiscoveredResources.Entry]) -> APIResourceInfo? {
        // Candidate readings, most specific first: resource.version.group, resource.group, resource.
        var readings: [(name: String, version: String?, group: String?)] = []
        let parts = arg.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count >= 3 { readings.append((parts[0], parts[1], parts[2...].joined(separator: "."))) }
        if parts.count >= 2 { readings.append((parts[0], nil, parts[1...].joined(separator: "."))) }
        readings.append((arg, nil, nil))
        for reading in readings {
            let candidates = top.filter { e in
                (reading.group.map { e.resource.group == $0 } ?? true)
                    && (reading.version.map { e.resource.version == $0 } ?? e.preferred)
            }.map(\.resource)
            if let hit = candidates.first(where: { $0.shortNames.contains(reading.name) })
                ?? candidates.first(where: { $0.name == reading.name })
                ?? candidates.first(where: { $0.singularName == reading.name })
                ?? candidates.first(where: { $0.kind.lowercased() == reading.name }) {
                return hit
            }
        }
        return nil
    }
}

/// No served resource matches what the user typed.
public struct RESTMapperError: Error, Sendable, Equatable, CustomStringConvertible {
    public var argument: String
    public init(argument: String) { self.argument = argument }
    /// kubectl's wording.
    public var description: String { "the server doesn't have a resource type \"\(argument)\"" }
}
