import KubeModel

/// Every served resource, looked up by group, version and plural.
public struct ResourceCatalog: Sendable {
    public let strategies: [any ResourceStrategy]
    private let byGroupResource: [String: Int]

    public init(_ strategies: [any ResourceStrategy]) {
        self.strategies = strategies
        var index: [String: Int] = [:]
        for (i, s) in strategies.enumerated() { index[Self.key(s.definition.group, s.definition.plural)] = i }
        byGroupResource = index
    }

    private static func key(_ group: String, _ plural: String) -> String { group + "/" + plural }

    public func strategy(group: String, plural: String) -> (any ResourceStrategy)? {
        byGroupResource[Self.key(group, plural)].map { strategies[$0] }
    }

    /// The resource served at a group-version, or nil when that version is not served.
    public func strategy(group: String, version: String, plural: String) -> (any ResourceStrategy)? {
        guard let s = strategy(group: group, plural: plural), s.definition.versions.contains(version) else { return nil }
        return s
    }

    /// Group names with their served versions, preferred version first, in a stable order.
    public var groups: [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for s in strategies {
            let d = s.definition
            if versions[d.group] == nil { order.append(d.group) }
            for v in d.versions where !(versions[d.group]?.contains(v) ?? false) { versions[d.group, default: []].append(v) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    public func strategies(group: String, version: String) -> [any ResourceStrategy] {
        strategies.filter { $0.definition.group == group && $0.definition.versions.contains(version) }
    }

    /// Storage key prefix of a resource, optionally within one namespace.
    public static func keyPrefix(_ def: ResourceDefinition, namespace: String?) -> String {
        var k = "/registry/\(def.group.isEmpty ? "core" : def.group)/\(def.plural)/"
        if def.namespaced, let namespace { k += namespace + "/" }
        return k
    }

    public static func key(_ def: ResourceDefinition, namespace: String?, name: String) -> String {
        keyPrefix(def, namespace: namespace) + name
    }
}
