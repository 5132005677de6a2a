/// Merging an applied configuration into a live object, and removing owned fields, per the
/// schema's list and map types (structured-merge-diff's rules).
public enum ApplyMerge {
    /// `live` with `config` merged in: maps and structs merged key by key, list-maps by item
    /// key, sets unioned, everything else (scalars, atomic values) replaced. A null in the
    /// configuration removes the field.
    public static func merge(_ config: JSONValue, into live: JSONValue, typeName: String?, schema: Schema = .kubernetes) -> JSONValue {
        let m = Merger(types: ApplyTypes(schema: schema))
        return m.merge(live, config, FieldSets.root(typeName, schema)) ?? .object([:])
    }

    /// `object` without the fields in `set` (a list-map item or set value whose own path is
    /// in the set goes entirely).
    public static func removing(_ set: FieldSet, from object: JSONValue, typeName: String?, schema: Schema = .kubernetes) -> JSONValue {
        let m = Merger(types: ApplyTypes(schema: schema))
        return m.remove(object, set, FieldSets.root(typeName, schema))
    }

    struct Merger {
        let types: ApplyTypes

        func merge(_ live: JSONValue?, _ config: JSONValue, _ node: SchemaNode?) -> JSONValue? {
            if config.isNull { return nil }
            guard let live else { return config }
            let shape = types.shape(node, value: config)
            switch (shape, live, config) {
            case (.structure, .object(let a), .object(let b)), (.map, .object(let a), .object(let b)):
                var out = a
                for (k, v) in b { out[k] = merge(a[k], v, types.child(shape, k).node) }
                return .object(out)
            case (.listMap(let keys, let item), .array(let a), .array(let b)):
                var out = a
                var at: [PathElement: Int] = [:]
                for (i, v) in a.enumerated() {
                    if let k = ApplyTypes.key(of: v, keys: keys), at[k] == nil { at[k] = i }
                }
                var gone: Set<Int> = []
                for v in b {
                    guard let k = ApplyTypes.key(of: v, keys: keys) else { out.append(v); continue }
                    if let i = at[k] {
                        if let merged = merge(out[i], v, item) { out[i] = merged } else { gone.insert(i) }
                    } else if !v.isNull {
                        at[k] = out.count
                        out.append(v)
                    }
                }
                return .array(out.enumerated().filter { !gone.contains($0.offset) }.map(\.element))
            case (.set, .array(let a), .array(let b)):
                var seen = Set(a)
                var out = a
                for v in b where !seen.contains(v) {
                    seen.insert(v)
                    out.append(v)
                }
                return .array(out)
            default:
                return config
            }
        }

        func remove(_ value: JSONValue, _ set: FieldSet, _ node: SchemaNode?) -> JSONValue {
            if set.children.isEmpty { return value }
            let shape = types.shape(node, value: value)
            switch (shape, value) {
            case (.structure, .object(var o)), (.map, .object(var o)):
                for (e, c) in set.children {
                    guard case .field(let k) = e, let v = o[k] else { continue }
                    // An explicit branch: `nil` in a ternary would become JSONValue.null.
                    if c.isMember { o.removeValue(forKey: k) } else { o[k] = remove(v, c, types.child(shape, k).node) }
                }
                return .object(o)
            case (.listMap(let keys, let item), .array(let a)):
                var out: [JSONValue] = []
                for v in a {
                    guard let k = ApplyTypes.key(of: v, keys: keys), let c = set.children[k] else { out.append(v); continue }
                    if !c.isMember { out.append(remove(v, c, item)) }
                }
                return .array(out)
            case (.set, .array(let a)):
                return .array(a.filter { set.children[.value($0)]?.isMember != true })
            default:
                return value
            }
        }
    }
}
