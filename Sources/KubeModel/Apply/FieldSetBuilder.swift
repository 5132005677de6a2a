/// Field sets of objects and of the differences between two objects, per the schema.
public enum FieldSets {
    /// The fields `object` specifies: leaves, atomic values, empty maps and list-map items (`.`),
    /// as server-side apply counts a configuration. Unknown struct fields are left out.
    public static func of(_ object: JSONValue, typeName: String?, schema: Schema = .kubernetes) -> FieldSet {
        let walker = Walker(types: ApplyTypes(schema: schema))
        return walker.build(object, root(typeName, schema))
    }

    /// The fields that differ from `old` to `new`: `changed` holds added and modified fields
    /// (an added subtree with everything under it), `removed` the fields `new` no longer has.
    public static func compare(_ old: JSONValue, _ new: JSONValue, typeName: String?,
                               schema: Schema = .kubernetes) -> (changed: FieldSet, removed: FieldSet) {
        let walker = Walker(types: ApplyTypes(schema: schema))
        var changed = FieldSet(), removed = FieldSet()
        walker.diff(old, new, root(typeName, schema), changed: &changed, removed: &removed)
        return (changed, removed)
    }

    static func root(_ typeName: String?, _ schema: Schema) -> SchemaNode? {
        typeName.flatMap { schema.definition($0) }
    }

    /// Server-maintained fields nobody owns (kube strips the same ones).
    public static let serverOwned: [[PathElement]] = [
        [.field("apiVersion")], [.field("kind")],
        [.field("metadata"), .field("name")], [.field("metadata"), .field("namespace")],
        [.field("metadata"), .field("uid")], [.field("metadata"), .field("resourceVersion")],
        [.field("metadata"), .field("generation")], [.field("metadata"), .field("creationTimestamp")],
        [.field("metadata"), .field("selfLink")], [.field("metadata"), .field("managedFields")],
        [.field("metadata"), .field("deletionTimestamp")], [.field("metadata"), .field("deletionGracePeriodSeconds")],
    ]

    /// `set` without the server-maintained fields (and without a bare `metadata` leaf).
    public static func strippingServerOwned(_ set: FieldSet) -> FieldSet {
        var s = set
        s.isMember = false  // the root (an object replaced whole) is not a field anyone owns
        for p in serverOwned { s.removeSubtree(p) }
        if var meta = s.children[.field("metadata")] {
            meta.isMember = false
            s.children[.field("metadata")] = meta.isEmpty ? nil : meta
        }
        return s
    }

    struct Walker {
        let types: ApplyTypes

        /// The fields under `value`; the node itself is a member when it is a leaf.
        func build(_ value: JSONValue, _ node: SchemaNode?) -> FieldSet {
            let shape = types.shape(node, value: value)
            switch shape {
            case .leaf:
                return .member
            case .structure, .map:
                guard let o = value.objectValue, !o.isEmpty else { return .member }
                var s = FieldSet()
                for (k, v) in o {
                    let (child, known) = types.child(shape, k)
                    guard known else { continue }
                    let c = build(v, child)
                    if !c.isEmpty { s.children[.field(k)] = c }
                }
                return s
            case .listMap(let keys, let item):
                guard let a = value.arrayValue else { return .member }
                var s = FieldSet()
                for v in a {
                    guard let k = ApplyTypes.key(of: v, keys: keys) else { continue }
                    var c = build(v, item)
                    c.isMember = true
                    s.children[k] = s.children[k].map { $0.union(c) } ?? c
                }
                return s
            case .set:
                guard let a = value.arrayValue else { return .member }
                var s = FieldSet()
                for v in a { s.children[.value(v)] = .member }
                return s
            }
        }

        /// Records how `new` differs from `old` (both present) into the two sets.
        func diff(_ old: JSONValue, _ new: JSONValue, _ node: SchemaNode?, changed: inout FieldSet, removed: inout FieldSet) {
            if old == new { return }
            let shape = types.shape(node, value: new)
            switch (shape, old, new) {
            case (.structure, .object(let a), .object(let b)), (.map, .object(let a), .object(let b)):
                if a.isEmpty || b.isEmpty {
                    // An empty map is itself a leaf: gaining or losing content changes it.
                    changed = build(new, node)
                    changed.isMember = true
                    if !a.isEmpty { removed = build(old, node) }
                    return
                }
                for k in Set(a.keys).union(b.keys) {
                    let (child, known) = types.child(shape, k)
                    guard known else { continue }
                    var c = FieldSet(), r = FieldSet()
                    switch (a[k], b[k]) {
                    case (let x?, let y?): diff(x, y, child, changed: &c, removed: &r)
                    case (nil, let y?): c = build(y, child); c.isMember = true
                    case (let x?, nil): r = build(x, child); r.isMember = true
                    case (nil, nil): break
                    }
                    if !c.isEmpty { changed.children[.field(k)] = c }
                    if !r.isEmpty { removed.children[.field(k)] = r }
                }
            case (.listMap(let keys, let item), .array(let a), .array(let b)):
                let x = index(a, keys), y = index(b, keys)
                for k in Set(x.keys).union(y.keys) {
                    var c = FieldSet(), r = FieldSet()
                    switch (x[k], y[k]) {
                    case (let p?, let q?): diff(p, q, item, changed: &c, removed: &r)
                    case (nil, let q?): c = build(q, item); c.isMember = true
                    case (let p?, nil): r = build(p, item); r.isMember = true
                    case (nil, nil): break
                    }
                    if !c.isEmpty { changed.children[k] = c }
                    if !r.isEmpty { removed.children[k] = r }
                }
            case (.set, .array(let a), .array(let b)):
                let x = Set(a), y = Set(b)
                for v in y.subtracting(x) { changed.children[.value(v)] = .member }
                for v in x.subtracting(y) { removed.children[.value(v)] = .member }
            default:
                // A leaf changed, or the value changed kind: the node is replaced.
                changed = build(new, node)
                changed.isMember = true
            }
        }

        func index(_ items: [JSONValue], _ keys: [String]) -> [PathElement: JSONValue] {
            var out: [PathElement: JSONValue] = [:]
            for v in items { if let k = ApplyTypes.key(of: v, keys: keys), out[k] == nil { out[k] = v } }
            return out
        }
    }
}
