/// A set of named type definitions, e.g. all Kubernetes v1.33 API types.
///
/// Immutable after init, so one instance is shared by every request. `Schema.kubernetes` is
/// parsed from the generated `SchemaData.json` on first use (Swift globals are lazy and
/// initialised once, thread-safely).
public final class Schema: Sendable {
    /// Definitions by full name, e.g. `io.k8s.api.apps.v1.Deployment`.
    public let definitions: [String: SchemaNode]
    private let byGVK: [SchemaNode.GVK: String]

    /// The built-in Kubernetes v1.33 types.
    public static let kubernetes: Schema = {
        // The data is generated and checked in; a parse failure is a build defect, and an empty
        // schema (no validation, no OpenAPI) is a safer outcome than crashing the server.
        guard let json = try? JSONParser.parse(SchemaData.json) else { return Schema(definitions: [:]) }
        return Schema(json: json)
    }()

    public init(definitions: [String: SchemaNode]) {
        self.definitions = definitions
        var index: [SchemaNode.GVK: String] = [:]
        for (name, node) in definitions {
            // Shared meta types (DeleteOptions, WatchEvent) list every group; a kind's own
            // definition is the one with a single GVK, so it wins over those.
            for g in node.gvk where index[g] == nil || node.gvk.count == 1 { index[g] = name }
        }
        self.byGVK = index
    }

    /// Reads `{ "<name>": <node>, ... }` in the compact generated form or as OpenAPI schemas.
    public convenience init(json: JSONValue) {
        var defs: [String: SchemaNode] = [:]
        for (name, node) in json.objectValue ?? [:] { defs[name] = SchemaNode(json: node) }
        self.init(definitions: defs)
    }

    /// The definition named `name`, e.g. `io.k8s.api.apps.v1.DeploymentSpec`.
    public func definition(_ name: String) -> SchemaNode? { definitions[name] }

    /// Name of the definition served as this group/version/kind, e.g. `io.k8s.api.apps.v1.Deployment`.
    public func typeName(group: String, version: String, kind: String) -> String? {
        byGVK[SchemaNode.GVK(group: group, version: version, kind: kind)]
    }

    /// Follows `ref`s to the node that carries the structure. An unknown or cyclic reference
    /// resolves to an empty node, which accepts any value.
    public func resolve(_ node: SchemaNode) -> SchemaNode {
        var cur = node
        var hops = 0
        while let ref = cur.ref {
            guard hops < 16, let next = definitions[ref] else { return SchemaNode() }
            cur = next
            hops += 1
        }
        return cur
    }

    /// Names of all definitions reachable from `roots` (the roots included), sorted.
    public func reachable(from roots: [String]) -> [String] {
        var seen: Set<String> = []
        var stack = roots
        while let name = stack.popLast() {
            guard !seen.contains(name), let node = definitions[name] else { continue }
            seen.insert(name)
            Self.collectRefs(node, into: &stack)
        }
        return seen.sorted()
    }

    private static func collectRefs(_ node: SchemaNode, into out: inout [String]) {
        if let r = node.ref { out.append(r) }
        for p in node.properties.values { collectRefs(p, into: &out) }
        if let i = node.items { collectRefs(i, into: &out) }
        if let a = node.additionalProperties { collectRefs(a, into: &out) }
    }
}

extension Schema {
    /// Go's short type name for a definition: `io.k8s.api.apps.v1.DeploymentSpec` -> `v1.DeploymentSpec`.
    /// Kubernetes' decode errors name types this way.
    public static func goTypeName(_ definition: String) -> String {
        let parts = definition.split(separator: ".")
        guard parts.count >= 2 else { return definition }
        return "\(parts[parts.count - 2]).\(parts[parts.count - 1])"
    }

    /// Last component of a definition name: `io.k8s.api.apps.v1.DeploymentSpec` -> `DeploymentSpec`.
    public static func shortName(_ definition: String) -> String {
        // Pruning asks for it at every object of every write: no array of components.
        guard let dot = definition.lastIndex(of: "."), definition.index(after: dot) != definition.endIndex else {
            return definition.split(separator: ".").last.map(String.init) ?? definition
        }
        return String(definition[definition.index(after: dot)...])
    }
}
