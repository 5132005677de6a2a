import KubeModel
import Synchronization

/// The Swagger 2.0 document served at `/openapi/v2`, as JSON or as gnostic's protobuf
/// (`openapi_v2.Document`). kubectl falls back to it for client-side validation when the v3
/// field-validation check does not apply (e.g. `kind: List` manifests): it indexes definitions
/// by `x-kubernetes-group-version-kind`, follows `#/definitions/<name>` refs and reports
/// unknown fields, so every definition must parse and every ref must resolve.
///
/// Built once on first use and shared by copies.
public struct OpenAPIV2Document: Sendable {
    private let schema: Schema
    /// Root type names to publish, with the GVK each is served as (for kinds the schema lacks).
    private let roots: [(name: String, gvk: SchemaNode.GVK)]
    private let cache = Cache()

    private final class Cache: Sendable {
        let built = Mutex<(json: JSONValue, protobuf: [UInt8])?>(nil)
    }

    /// Publishes every served version of `definitions`, with all schema types they reach.
    public init(definitions: [ResourceDefinition]) {
        self.init(definitions: definitions, schema: .kubernetes)
    }

    init(definitions: [ResourceDefinition], schema: Schema) {
        self.schema = schema
        var roots: [(name: String, gvk: SchemaNode.GVK)] = []
        for d in definitions {
            for v in d.versions {
                let typeName = d.schemaNames[v] ?? schema.typeName(group: d.group, version: v, kind: d.kind)
                    ?? OpenAPIDocuments.syntheticName(group: d.group, version: v, kind: d.kind)
                let listName = schema.typeName(group: d.group, version: v, kind: d.kind + "List") ?? typeName + "List"
                roots.append((typeName, SchemaNode.GVK(group: d.group, version: v, kind: d.kind)))
                roots.append((listName, SchemaNode.GVK(group: d.group, version: v, kind: d.kind + "List")))
            }
        }
        self.roots = roots
    }

    /// The document encoded as gnostic's `openapi_v2.Document` protobuf.
    public func protobuf() -> [UInt8] { built().protobuf }

    /// The document as Swagger 2.0 JSON.
    public func json() -> JSONValue { built().json }

    private func built() -> (json: JSONValue, protobuf: [UInt8]) {
        if let b = cache.built.withLock({ $0 }) { return b }
        // Built outside the lock; a racing duplicate is identical and the first stored wins.
        let json = buildJSON()
        let fresh = (json: json, protobuf: Self.encodeDocument(json))
        return cache.built.withLock { b in
            if let existing = b { return existing }
            b = fresh
            return fresh
        }
    }

    // MARK: - JSON

    private func buildJSON() -> JSONValue {
        let known = Set(schema.reachable(from: roots.map(\.name) + ["io.k8s.apimachinery.pkg.apis.meta.v1.Status"]))
        var published = known
        for r in roots { published.insert(r.name) }
        let converter = V2SchemaConverter(published: published)
        var defs: [String: JSONValue] = [:]
        for name in known {
            guard let node = schema.definition(name) else { continue }
            defs[name] = converter.definition(name: name, node: node)
        }
        // Kinds without a schema (custom resources) still carry their GVK; as schemaless
        // objects kubectl accepts any content for them.
        for r in roots where defs[r.name] == nil {
            let gvk: JSONValue = ["group": .string(r.gvk.group), "kind": .string(r.gvk.kind), "version": .string(r.gvk.version)]
            let apiVersion = r.gvk.group.isEmpty ? r.gvk.version : "\(r.gvk.group)/\(r.gvk.version)"
            defs[r.name] = [
                "description": .string("\(r.gvk.kind) is a \(apiVersion) object without a published schema."),
                "type": "object", "x-kubernetes-group-version-kind": [gvk],
            ]
        }
        return [
            "swagger": "2.0",
            "info": ["title": "Caravel", "version": "v1.33.0"],
            "paths": [:],
            "definitions": .object(defs),
        ]
    }

    // MARK: - Protobuf (field numbers from gnostic's openapiv2/OpenAPIv2.proto)

    static func encodeDocument(_ doc: JSONValue) -> [UInt8] {
        var w = ProtobufWriter()
        w.string(1, doc["swagger"]?.stringValue ?? "2.0")  // Document.swagger
        w.message(2) { info in  // Document.info
            info.string(1, doc["info"]?["title"]?.stringValue ?? "")
            info.string(2, doc["info"]?["version"]?.stringValue ?? "")
        }
        w.message(8) { _ in }  // Document.paths: present but empty
        w.message(9) { defs in  // Document.definitions
            let all = doc["definitions"]?.objectValue ?? [:]
            for name in all.keys.sorted() {
                guard let s = all[name] else { continue }
                defs.message(1) { named in  // Definitions.additional_properties: NamedSchema
                    named.string(1, name)
                    named.message(2) { encodeSchema(s, into: &$0) }
                }
            }
        }
        return w.bytes
    }

    /// Writes a JSON schema object as gnostic's `Schema` message.
    static func encodeSchema(_ schema: JSONValue, into w: inout ProtobufWriter) {
        let o = schema.objectValue ?? [:]
        for key in o.keys.sorted() {
            guard let v = o[key] else { continue }
            switch key {
            case "$ref": w.string(1, v.stringValue ?? "")
            case "format": w.string(2, v.stringValue ?? "")
            case "title": w.string(3, v.stringValue ?? "")
            case "description": w.string(4, v.stringValue ?? "")
            case "maximum": w.double(7, v.doubleValue ?? 0)
            case "minimum": w.double(9, v.doubleValue ?? 0)
            case "required":
                for r in v.arrayValue ?? [] { w.repeatedString(19, r.stringValue ?? "") }
            case "enum":
                for e in v.arrayValue ?? [] { w.message(20) { $0.string(2, yaml(e)) } }  // Any.yaml
            case "additionalProperties":
                w.message(21) { ap in  // AdditionalPropertiesItem: schema = 1 | boolean = 2
                    if let b = v.boolValue {
                        ap.tag(2, .varint)
                        ap.varint(b ? 1 : 0)
                    } else {
                        ap.message(1) { encodeSchema(v, into: &$0) }
                    }
                }
            case "type":
                let types = v.arrayValue?.compactMap(\.stringValue) ?? [v.stringValue].compactMap { $0 }
                w.message(22) { t in for s in types { t.repeatedString(1, s) } }  // TypeItem.value
            case "items":
                let items = v.arrayValue ?? [v]
                w.message(23) { it in for i in items { it.message(1) { encodeSchema(i, into: &$0) } } }
            case "allOf":
                for s in v.arrayValue ?? [] { w.message(24) { encodeSchema(s, into: &$0) } }
            case "properties":
                let props = v.objectValue ?? [:]
                w.message(25) { p in  // Properties.additional_properties: NamedSchema
                    for name in props.keys.sorted() {
                        guard let ps = props[name] else { continue }
                        p.message(1) { named in
                            named.string(1, name)
                            named.message(2) { encodeSchema(ps, into: &$0) }
                        }
                    }
                }
            case _ where key.hasPrefix("x-"):
                w.message(31) { ext in  // NamedAny{name, value: Any{yaml}}
                    ext.string(1, key)
                    ext.message(2) { $0.string(2, yaml(v)) }
                }
            default: break
            }
        }
    }

    /// gnostic keeps extension and enum values as YAML text; JSON is valid YAML, so the
    /// compact JSON encoding is used as is.
    static func yaml(_ v: JSONValue) -> String { JSONWriter.string(v) + "\n" }
}

/// Turns `SchemaNode`s into Swagger 2.0 schemas shaped as kube-openapi publishes them for v2:
/// bare `$ref`s with sibling descriptions, int-or-string as `type: string, format: int-or-string`,
/// quantities as plain strings, and nothing that kube-openapi's v2 parser would reject
/// (arrays without items, refs to unpublished definitions).
struct V2SchemaConverter {
    /// Definitions that will exist in the document; refs elsewhere become "any value".
    let published: Set<String>

    static func ref(_ name: String) -> String { "#/definitions/\(name)" }

    func definition(name: String, node: SchemaNode) -> JSONValue {
        var out = body(node, owner: Schema.shortName(name))
        out["description"] = .string(OpenAPISchemaConverter.describe(definition: name, node: node))
        if !node.gvk.isEmpty {
            out["x-kubernetes-group-version-kind"] = .array(
                node.gvk.map { ["group": .string($0.group), "kind": .string($0.kind), "version": .string($0.version)] })
        }
        return .object(out)
    }

    func body(_ node: SchemaNode, owner: String) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        if let r = node.ref {
            if published.contains(r) { out["$ref"] = .string(Self.ref(r)) }
            extensions(node, into: &out)
            return out
        }
        switch node.type {
        case "int-or-string":
            out["type"] = "string"
            out["format"] = "int-or-string"
        case "quantity":
            out["type"] = "string"
        case "array":
            // kube-openapi's parser rejects arrays without exactly one item schema.
            if let items = node.items {
                out["type"] = "array"
                out["items"] = .object(body(items, owner: owner))
            }
        case "object", nil:
            if node.type != nil || !node.properties.isEmpty || node.additionalProperties != nil { out["type"] = "object" }
            // Fields under preserve-unknown-fields are open-ended: publishing them as a map
            // keeps kubectl from calling unlisted fields unknown.
            if !node.properties.isEmpty && !node.preserveUnknownFields {
                var props: [String: JSONValue] = [:]
                for (k, v) in node.properties {
                    var p = body(v, owner: owner)
                    p["description"] = .string("Field \(k) of \(owner).")
                    if k == "apiVersion" || k == "kind" { p.removeValue(forKey: "enum") }
                    props[k] = .object(p)
                }
                out["properties"] = .object(props)
                if !node.required.isEmpty { out["required"] = .array(node.required.map { .string($0) }) }
            }
            if let ap = node.additionalProperties, !node.preserveUnknownFields {
                out["additionalProperties"] = .object(body(ap, owner: owner))
            }
        case let t?:
            out["type"] = .string(t)
            if let f = node.format { out["format"] = .string(f) }
        }
        if !node.enumValues.isEmpty, out["type"] != nil, out["type"] != "object" {
            out["enum"] = .array(node.enumValues)
        }
        extensions(node, into: &out)
        return out
    }

    private func extensions(_ node: SchemaNode, into out: inout [String: JSONValue]) {
        out.merge(node.kubernetesExtensions) { _, new in new }
    }
}
