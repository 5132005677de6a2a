/// One node of a Kubernetes type schema: a definition, a property, an array item or a map value.
///
/// Immutable, so it is shared freely across tasks. A node that only names another definition has
/// `ref` set and nothing else; `Schema.resolve(_:)` follows it by name, so cyclic types
/// (`JSONSchemaProps`) need no object cycles.
public final class SchemaNode: Sendable {
    /// A group/version/kind a top-level definition is served as.
    public struct GVK: Sendable, Hashable {
        public var group: String
        public var version: String
        public var kind: String

        public init(group: String, version: String, kind: String) {
            self.group = group
            self.version = version
            self.kind = kind
        }
    }

    /// `object`, `array`, `string`, `integer`, `number`, `boolean`, `int-or-string`, `quantity`;
    /// nil for a pure reference or a node that accepts any JSON.
    public let type: String?
    /// `int32`, `int64`, `double`, `byte`, `date-time`, ...
    public let format: String?
    /// Name of the definition this node stands for, e.g. `io.k8s.api.core.v1.PodSpec`.
    public let ref: String?
    public let properties: [String: SchemaNode]
    public let items: SchemaNode?
    /// Value schema of a map (`map[string]T`).
    public let additionalProperties: SchemaNode?
    public let required: [String]
    public let enumValues: [JSONValue]
    public let gvk: [GVK]
    public let patchStrategy: String?
    public let patchMergeKey: String?
    /// `atomic`, `set` or `map`.
    public let listType: String?
    public let listMapKeys: [String]
    /// `atomic` or `granular`.
    public let mapType: String?
    public let preserveUnknownFields: Bool

    public init(
        type: String? = nil, format: String? = nil, ref: String? = nil, properties: [String: SchemaNode] = [:],
        items: SchemaNode? = nil, additionalProperties: SchemaNode? = nil, required: [String] = [],
        enumValues: [JSONValue] = [], gvk: [GVK] = [], patchStrategy: String? = nil, patchMergeKey: String? = nil,
        listType: String? = nil, listMapKeys: [String] = [], mapType: String? = nil, preserveUnknownFields: Bool = false
    ) {
        self.type = type
        self.format = format
        self.ref = ref
        self.properties = properties
        self.items = items
        self.additionalProperties = additionalProperties
        self.required = required
        self.enumValues = enumValues
        self.gvk = gvk
        self.patchStrategy = patchStrategy
        self.patchMergeKey = patchMergeKey
        self.listType = listType
        self.listMapKeys = listMapKeys
        self.mapType = mapType
        self.preserveUnknownFields = preserveUnknownFields
    }

    /// Reads a node from the compact form `scripts/gen-schema.py` writes, and also from plain
    /// OpenAPI v2/v3 schemas (`$ref`, `allOf` of one ref, `x-kubernetes-*` extensions,
    /// `x-kubernetes-int-or-string`), so CRD `openAPIV3Schema`s can be loaded the same way.
    public convenience init(json: JSONValue) {
        let o = json.objectValue ?? [:]
        func str(_ keys: String...) -> String? {
            for k in keys { if let s = o[k]?.stringValue { return s } }
            return nil
        }
        func strings(_ keys: String...) -> [String] {
            for k in keys { if let a = o[k]?.arrayValue { return a.compactMap(\.stringValue) } }
            return []
        }
        func flag(_ keys: String...) -> Bool {
            keys.contains { o[$0]?.boolValue == true }
        }

        var ref = str("ref", "$ref").map(SchemaNode.refName)
        if ref == nil, let all = o["allOf"]?.arrayValue, all.count == 1, let r = all[0]["$ref"]?.stringValue {
            ref = SchemaNode.refName(r)
        }
        var type: String?
        switch o["type"] {
        case .string(let t)?: type = t
        case .array(let ts)?: type = ts.compactMap(\.stringValue).first { $0 != "null" }
        default: type = nil
        }
        if flag("intOrString", "x-kubernetes-int-or-string") { type = "int-or-string" }
        if type == nil, let one = o["oneOf"]?.arrayValue {
            // IntOrString / Quantity as OpenAPI v3 spells them.
            let kinds = Set(one.compactMap { $0["type"]?.stringValue })
            if kinds == ["integer", "string"] { type = "int-or-string" } else if kinds.contains("string") { type = "quantity" }
        }
        var additional: SchemaNode?
        switch o["additionalProperties"] {
        case .object?: additional = o["additionalProperties"].map { SchemaNode(json: $0) }
        case .bool(true)?: additional = SchemaNode()  // any value
        default: additional = nil
        }
        var props: [String: SchemaNode] = [:]
        for (k, v) in o["properties"]?.objectValue ?? [:] { props[k] = SchemaNode(json: v) }
        let gvk: [GVK] = (o["gvk"] ?? o["x-kubernetes-group-version-kind"])?.arrayValue?.compactMap { g in
            guard let kind = g["kind"]?.stringValue, let version = g["version"]?.stringValue else { return nil }
            return GVK(group: g["group"]?.stringValue ?? "", version: version, kind: kind)
        } ?? []

        self.init(
            type: type, format: str("format"), ref: ref, properties: props,
            items: o["items"].flatMap { $0.objectValue != nil ? SchemaNode(json: $0) : nil },
            additionalProperties: additional,
            required: strings("required"),
            enumValues: (o["enum"]?.arrayValue ?? []).filter { !$0.isNull },
            gvk: gvk,
            patchStrategy: str("patchStrategy", "x-kubernetes-patch-strategy"),
            patchMergeKey: str("patchMergeKey", "x-kubernetes-patch-merge-key"),
            listType: str("listType", "x-kubernetes-list-type"),
            listMapKeys: strings("listMapKeys", "x-kubernetes-list-map-keys"),
            mapType: str("mapType", "x-kubernetes-map-type"),
            preserveUnknownFields: flag("preserveUnknownFields", "x-kubernetes-preserve-unknown-fields")
        )
    }

    /// `#/components/schemas/io.k8s.X` or `#/definitions/io.k8s.X` -> `io.k8s.X`.
    static func refName(_ r: String) -> String {
        guard let slash = r.lastIndex(of: "/") else { return r }
        return String(r[r.index(after: slash)...])
    }

    /// True for a struct-like object: known properties, so unknown ones are dropped.
    public var isStruct: Bool { !properties.isEmpty }

    /// True for a map: an object whose values all follow `additionalProperties`.
    public var isMap: Bool { properties.isEmpty && additionalProperties != nil }

    /// True when any JSON is accepted as is: no type, or an object with neither properties nor
    /// a value schema (`RawExtension`, `FieldsV1`, `JSON`).
    public var acceptsAnything: Bool {
        if ref != nil { return false }
        switch type {
        case nil: return properties.isEmpty && items == nil && additionalProperties == nil
        case "object": return properties.isEmpty && additionalProperties == nil
        default: return false
        }
    }
}
