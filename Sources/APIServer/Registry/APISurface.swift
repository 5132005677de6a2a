import KubeModel
import Synchronization

/// What the server serves right now: the built-in kinds plus the custom resources of the
/// established CustomResourceDefinitions, with the discovery and OpenAPI documents that
/// describe them. Replaced as one snapshot when a definition comes or goes, so a request
/// sees one consistent set of kinds from routing to its documents.
public final class APISurface: Sendable {
    public struct Snapshot: Sendable {
        public let catalog: ResourceCatalog
        public let discovery: Discovery
        public let openAPI: OpenAPIDocuments
        /// Swagger 2.0 document kubectl's client-side validation falls back to.
        public let openAPIV2: OpenAPIV2Document

        init(strategies: [any ResourceStrategy], schema: Schema) {
            catalog = ResourceCatalog(strategies)
            discovery = Discovery(catalog: catalog)
            let definitions = strategies.map(\.definition)
            openAPI = OpenAPIDocuments(definitions: definitions, schema: schema)
            openAPIV2 = OpenAPIV2Document(definitions: definitions, schema: schema)
        }
    }

    public let builtins: [any ResourceStrategy]
    private let snapshot: Mutex<Snapshot>

    public init(builtins: [any ResourceStrategy]) {
        self.builtins = builtins
        snapshot = Mutex(Snapshot(strategies: builtins, schema: .kubernetes))
    }

    public var current: Snapshot { snapshot.withLock { $0 } }

    /// Serves `custom` (whose schemas `definitions` adds to the built-in ones) next to the
    /// built-in kinds, replacing the custom kinds served before.
    public func install(custom: [any ResourceStrategy], definitions: [String: SchemaNode]) {
        let schema = definitions.isEmpty ? Schema.kubernetes
            : Schema(definitions: Schema.kubernetes.definitions.merging(definitions) { _, custom in custom })
        let next = Snapshot(strategies: builtins + custom, schema: schema)
        snapshot.withLock { $0 = next }
    }
}
