import KubeModel

/// One resource a server serves, as discovery describes it (an `APIResource` with its
/// group and version attached).
public struct APIResourceInfo: Sendable, Hashable {
    /// API group; empty for the core group.
    public var group: String
    /// Version, e.g. `v1`.
    public var version: String
    /// Lower-case plural, e.g. `deployments`.
    public var name: String
    /// Lower-case singular, e.g. `deployment` (the lower-cased kind when discovery gives none).
    public var singularName: String
    /// Kind, e.g. `Deployment`.
    public var kind: String
    /// Whether objects live in namespaces.
    public var namespaced: Bool
    public var verbs: [String]
    public var shortNames: [String]
    public var categories: [String]

    public init(group: String, version: String, name: String, singularName: String, kind: String,
                namespaced: Bool, verbs: [String] = [], shortNames: [String] = [], categories: [String] = []) {
        self.group = group
        self.version = version
        self.name = name
        self.singularName = singularName.isEmpty ? kind.lowercased() : singularName
        self.kind = kind
        self.namespaced = namespaced
        self.verbs = verbs
        self.shortNames = shortNames
        self.categories = categories
    }

    /// Reads one entry of an `APIResourceList`'s `resources`.
    public init?(json r: JSONValue, group: String, version: String) {
        guard let name = r["name"]?.stringValue, let kind = r["kind"]?.stringValue else { return nil }
        let strings = { (key: String) in r[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(group: r["group"]?.stringValue ?? group, version: r["version"]?.stringValue ?? version,
                  name: name, singularName: r["singularName"]?.stringValue ?? "", kind: kind,
                  namespaced: r["namespaced"]?.boolValue ?? false, verbs: strings("verbs"),
                  shortNames: strings("shortNames"), categories: strings("categories"))
    }

    /// `group/version`, or `version` for the core group.
    public var groupVersion: String { group.isEmpty ? version : group + "/" + version }
    /// `deployments.apps`, or `pods` for the core group (kubectl's name for the resource).
    public var groupResource: String { group.isEmpty ? name : name + "." + group }
    /// Whether this is a subresource entry such as `pods/log`.
    public var isSubresource: Bool { name.contains("/") }

    /// The collection (or object) path in `namespace` (ignored for cluster-scoped resources).
    public func path(namespace: String?, name objectName: String? = nil) -> ResourcePath {
        ResourcePath(group: group, version: version, plural: name,
                     namespace: namespaced ? namespace : nil, name: objectName)
    }
}
