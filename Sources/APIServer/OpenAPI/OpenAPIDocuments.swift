import KubeModel
import Synchronization

/// The OpenAPI v3 documents served under `/openapi/v3`: a root listing every group-version and
/// one document per group-version, which `kubectl explain` and kubectl's field-validation
/// check read.
///
/// Documents are built on first request and cached for the life of the value (they depend only
/// on the definitions and the schema, both immutable); copies share the cache.
public struct OpenAPIDocuments: Sendable {
    /// Built document: the JSON, its encoding and the digest clients use as a cache key.
    public struct Built: Sendable {
        public let value: JSONValue
        public let bytes: [UInt8]
        /// Hex digest of `bytes`, used in `serverRelativeURL`'s `?hash=`.
        public let hash: String
    }

    private let schema: Schema
    /// Resources per document key (`api/v1`, `apis/apps/v1`).
    private let groupVersions: [String: (group: String, version: String, resources: [ServedResource])]
    private let cache = Cache()

    private final class Cache: Sendable {
        let documents = Mutex<[String: Built]>([:])
        let root = Mutex<JSONValue?>(nil)
    }

    public init(definitions: [ResourceDefinition], schema: Schema = .kubernetes) {
        self.schema = schema
        var gvs: [String: (group: String, version: String, resources: [ServedResource])] = [:]
        for d in definitions {
            for v in d.versions {
                let key = Self.key(group: d.group, version: v)
                let typeName = d.schemaNames[v] ?? schema.typeName(group: d.group, version: v, kind: d.kind)
                    ?? Self.syntheticName(group: d.group, version: v, kind: d.kind)
                let listName = schema.typeName(group: d.group, version: v, kind: d.kind + "List") ?? typeName + "List"
                let served = ServedResource(definition: d, version: v, typeName: typeName, listTypeName: listName)
                gvs[key, default: (d.group, v, [])].resources.append(served)
            }
        }
        self.groupVersions = gvs
    }

    /// `api/v1` for the core group, `apis/<group>/<version>` otherwise.
    public static func key(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    /// Document keys served, sorted.
    public var paths: [String] { groupVersions.keys.sorted() }

    /// The `/openapi/v3` body: `{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=..."}}}`.
    public func root() -> JSONValue {
        if let r = cache.root.withLock({ $0 }) { return r }
        var paths: [String: JSONValue] = [:]
        for key in groupVersions.keys {
            guard let b = built(path: key) else { continue }
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(b.hash)")]
        }
        let r: JSONValue = ["paths": .object(paths)]
        cache.root.withLock { $0 = r }
        return r
    }

    /// The OpenAPI 3.0 document for a group-version, e.g. `apis/apps/v1` or `api/v1`
    /// (a leading `/` or `/openapi/v3/` is ignored); nil if that group-version is not served.
    public func document(path: String) -> JSONValue? { built(path: path)?.value }

    /// The document with its encoding and hash, for serving with caching headers.
    public func built(path: String) -> Built? {
        var key = Substring(path)
        while key.hasPrefix("/") { key = key.dropFirst() }
        if key.hasPrefix("openapi/v3/") { key = key.dropFirst("openapi/v3/".count) }
        if let q = key.firstIndex(of: "?") { key = key[..<q] }
        while key.hasSuffix("/") { key = key.dropLast() }
        let k = String(key)
        guard let gv = groupVersions[k] else { return nil }
        if let b = cache.documents.withLock({ $0[k] }) { return b }
        // Built outside the lock so a slow build never blocks other readers; a racing
        // duplicate build is identical and the first stored one wins.
        let value = buildDocument(group: gv.group, version: gv.version, resources: gv.resources)
        let bytes = JSONWriter.bytes(value)
        let fresh = Built(value: value, bytes: bytes, hash: Self.fnv1a64Hex(bytes))
        return cache.documents.withLock { docs in
            if let existing = docs[k] { return existing }
            docs[k] = fresh
            return fresh
        }
    }

    private func buildDocument(group: String, version: String, resources: [ServedResource]) -> JSONValue {
        let builder = OpenAPIPathBuilder(group: group, version: version)
        var paths: [String: JSONValue] = [:]
        let (listPath, listItem) = builder.resourceListPath()
        paths[listPath] = listItem
        var roots = [OpenAPIPathBuilder.statusType, OpenAPIPathBuilder.deleteOptionsType, OpenAPIPathBuilder.patchType,
                     OpenAPIPathBuilder.resourceListType]
        for r in resources.sorted(by: { $0.definition.plural < $1.definition.plural }) {
            paths.merge(builder.paths(for: r)) { a, _ in a }
            roots += [r.typeName, r.listTypeName]
            for sub in r.definition.subresources {
                if sub == .scale { roots.append("io.k8s.api.autoscaling.v1.Scale") }
                if let (type, _) = OpenAPIPathBuilder.postSubresources[sub] { roots.append(type) }
            }
        }

        let converter = OpenAPISchemaConverter(schema: schema)
        var components: [String: JSONValue] = [:]
        for name in schema.reachable(from: roots) {
            guard let node = schema.definition(name) else { continue }
            components[name] = converter.component(name: name, node: node)
        }
        // Kinds the schema does not know (custom resources without a schema) still need a
        // component carrying their GVK, or `kubectl explain` reports the kind as missing.
        for r in resources where components[r.typeName] == nil {
            let gvk: JSONValue = ["group": .string(group), "kind": .string(r.definition.kind), "version": .string(version)]
            components[r.typeName] = [
                "description": .string("\(r.definition.kind) is a \(r.definition.apiVersion(version)) object without a published schema."),
                "type": "object", "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-group-version-kind": [gvk],
            ]
        }
        for r in resources where components[r.listTypeName] == nil {
            components[r.listTypeName] = [
                "description": .string("List of \(r.definition.kind) objects."), "type": "object",
                "properties": ["items": ["type": "array", "items": OpenAPISchemaConverter.ref(r.typeName)]],
                "x-kubernetes-preserve-unknown-fields": true,
            ]
        }

        return [
            "openapi": "3.0.0",
            "info": ["title": "Caravel", "version": "v1.33.0"],
            "paths": .object(paths),
            "components": [
                "schemas": .object(components),
                "securitySchemes": [
                    "BearerToken": [
                        "type": "apiKey", "description": "Bearer token authentication", "name": "authorization", "in": "header",
                    ]
                ],
            ],
        ]
    }

    /// Component name for a kind the schema lacks, in Kubernetes' reversed-group style:
    /// `stable.example.com/v1 CronTab` -> `com.example.stable.v1.CronTab`.
    static func syntheticName(group: String, version: String, kind: String) -> String {
        let reversed = group.split(separator: ".").reversed().joined(separator: ".")
        return [reversed.isEmpty ? "core" : reversed, version, kind].joined(separator: ".")
    }

    /// 64-bit FNV-1a as 16 upper-case hex digits: stable across runs, cheap, and only used to
    /// tell document versions apart.
    static func fnv1a64Hex(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
