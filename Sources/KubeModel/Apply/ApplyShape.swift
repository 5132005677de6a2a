/// How server-side apply treats a value, from the schema of the field holding it.
enum ApplyShape {
    /// A scalar, or a value owned whole (atomic list or map, unknown structure).
    case leaf
    /// A struct: known properties, each owned separately; unknown ones are ignored.
    case structure([String: SchemaNode])
    /// A granular map; values follow the node (nil: untyped).
    case map(SchemaNode?)
    /// A list of objects identified by key fields (`listType: map`, or a merge key).
    case listMap(keys: [String], item: SchemaNode?)
    /// A list of scalars owned by value (`listType: set`).
    case set
}

/// Resolves schema nodes into apply shapes and identifies list-map items.
struct ApplyTypes {
    let schema: Schema

    /// Defaults for list-map key fields that clients usually leave out, so an applied item
    /// matches the defaulted live item (`ports` are keyed by containerPort and protocol).
    static let keyDefaults: [String: JSONValue] = ["protocol": "TCP"]

    /// The shape of `value` held by a field with schema `node` (nil: no schema known).
    func shape(_ node: SchemaNode?, value: JSONValue?) -> ApplyShape {
        guard let node else { return untyped(value) }
        let r = schema.resolve(node)
        if node.mapType == "atomic" || r.mapType == "atomic" { return .leaf }
        if r.type == "array" || r.items != nil {
            switch node.listType ?? r.listType {
            case "atomic": return .leaf
            case "set": return .set
            case "map":
                let keys = node.listMapKeys.isEmpty ? r.listMapKeys : node.listMapKeys
                return keys.isEmpty ? .leaf : .listMap(keys: keys, item: node.items ?? r.items)
            default:
                // Older schemas only carry the strategic-merge markers.
                let strategy = node.patchStrategy ?? r.patchStrategy ?? ""
                guard strategy.split(separator: ",").contains("merge") else { return .leaf }
                if let k = node.patchMergeKey ?? r.patchMergeKey, !k.isEmpty { return .listMap(keys: [k], item: node.items ?? r.items) }
                return .set
            }
        }
        if r.isStruct { return .structure(r.properties) }
        if r.isMap { return .map(r.additionalProperties) }
        // Free-form objects a CRD keeps as given are granular; RawExtension-like ones are atomic.
        if r.preserveUnknownFields { return untyped(value) }
        return .leaf
    }

    /// Without a schema, objects are granular maps and everything else is atomic.
    private func untyped(_ value: JSONValue?) -> ApplyShape {
        if case .object? = value { return .map(nil) }
        return .leaf
    }

    /// The schema of a child of a struct or map; `known` is false for an unknown struct field.
    func child(_ shape: ApplyShape, _ key: String) -> (node: SchemaNode?, known: Bool) {
        switch shape {
        case .structure(let props): return (props[key], props[key] != nil)
        case .map(let node): return (node, true)
        default: return (nil, false)
        }
    }

    /// The key element of a list-map item; nil when the item has none of the key fields.
    static func key(of item: JSONValue, keys: [String]) -> PathElement? {
        guard let o = item.objectValue else { return nil }
        var k: [String: JSONValue] = [:]
        for name in keys {
            if let v = o[name], !v.isNull { k[name] = v } else if let d = keyDefaults[name] { k[name] = d }
        }
        guard keys.contains(where: { o[$0] != nil }) else { return nil }
        return .key(.object(k))
    }
}
