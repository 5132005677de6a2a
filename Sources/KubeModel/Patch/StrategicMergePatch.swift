/// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), with the
/// semantics of `k8s.io/apimachinery/pkg/util/strategicpatch` as the API server applies it.
///
/// Objects merge recursively and `null` deletes a member. A list whose schema field has
/// `patchStrategy: merge` merges: lists of objects by `patchMergeKey`, lists of scalars as an
/// ordered set; every other list is replaced. Directives: `$patch` (`replace`, `delete`, `merge`),
/// `$retainKeys`, `$setElementOrder/<field>` and `$deleteFromPrimitiveList/<field>`. Fields the
/// schema does not know (or a type it does not know) merge as in JSON merge patch.
///
/// Ordering follows the Go implementation: without `$setElementOrder` the items named in the
/// patch keep the patch's order and take precedence, so an item new to a merging list lands
/// before the existing items it is not ordered against (`kubectl apply` sends
/// `$setElementOrder`, which pins the whole order).
public enum StrategicMergePatch {
    /// Deepest nesting of objects and lists a patch may reach; bounds recursion on hostile input.
    public static let maxDepth = 200

    /// Applies `patch` to `original`, a document of the schema type `typeName`
    /// (e.g. `io.k8s.api.apps.v1.Deployment`). `original` may be `null` (an empty object).
    /// Directives never appear in the result.
    public static func apply(
        _ patch: JSONValue, to original: JSONValue, typeName: String, schema: Schema = .kubernetes
    ) throws(StrategicMergePatchError) -> JSONValue {
        guard case .object(let p) = patch else {
            throw StrategicMergePatchError("a strategic merge patch must be a JSON object, got \(kindName(patch))")
        }
        let base: [String: JSONValue]
        switch original {
        case .object(let o): base = o
        case .null: base = [:]
        default: throw StrategicMergePatchError("cannot apply a strategic merge patch to \(kindName(original))")
        }
        let merger = StrategicMerger(schema: schema)
        let root = schema.definition(typeName).map { schema.resolve($0) }
        return .object(try merger.mergeMap(base, p, node: root, path: .root, depth: 0))
    }

    static func kindName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// A strategic merge patch that cannot be applied: malformed directives, a list item without
/// its merge key, mismatched types. `message` names the offending field and is fit for an API
/// `Status` (HTTP 422/400).
public struct StrategicMergePatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Directive names, as `kubectl` and the Go client send them.
enum SMPDirective {
    static let patch = "$patch"
    static let retainKeys = "$retainKeys"
    static let setElementOrder = "$setElementOrder"
    static let deleteFromPrimitiveList = "$deleteFromPrimitiveList"
}

/// Location inside the document, kept as a cheap linked list and only rendered for errors.
indirect enum SMPPath: Sendable {
    case root
    case field(SMPPath, String)
    case item(SMPPath, Int)

    var rendered: String {
        var parts: [String] = []
        var cur = self
        while true {
            switch cur {
            case .root:
                return parts.reversed().joined()
            case .field(let parent, let name):
                if case .root = parent { parts.append(name) } else { parts.append("." + name) }
                cur = parent
            case .item(let parent, let i):
                parts.append("[\(i)]")
                cur = parent
            }
        }
    }

    func error(_ message: String) -> StrategicMergePatchError {
        if case .root = self { return StrategicMergePatchError(message) }
        return StrategicMergePatchError("\(rendered): \(message)")
    }
}

/// How a field's value is patched, from its schema `patchStrategy`.
enum SMPStrategy {
    /// Maps merge, lists replace (the JSON merge patch default).
    case standard
    case merge
    case replace
}

/// The patch algorithm; stateless apart from the schema, so one instance serves a whole patch.
struct StrategicMerger {
    let schema: Schema

    // MARK: Schema lookups

    /// Schema of member `key` of an object described by the resolved `node`, with its patch
    /// metadata; nil when unknown (then the member patches like JSON merge patch).
    func field(_ key: String, in node: SchemaNode?) -> SchemaNode? {
        guard let node else { return nil }
        if let f = node.properties[key] { return f }
        return node.properties.isEmpty ? node.additionalProperties : nil
    }

    func resolved(_ node: SchemaNode?) -> SchemaNode? { node.map { schema.resolve($0) } }

    /// Item schema of a list field. A struct-typed field given a list describes its items
    /// itself, as Go's lookup does for pointer and struct fields.
    func items(of field: SchemaNode?) -> SchemaNode? {
        if let items = field?.items { return items }
        guard let r = resolved(field) else { return nil }
        return r.items ?? (r.isStruct ? r : nil)
    }

    /// The field's strategy; the `retainKeys` part needs no schema support since the
    /// `$retainKeys` directive itself carries the key list.
    func strategy(of field: SchemaNode?) -> SMPStrategy {
        guard let s = field?.patchStrategy else { return .standard }
        let parts = s.split(separator: ",")
        if parts.contains("merge") { return .merge }
        if parts.contains("replace") { return .replace }
        return .standard
    }

    func mergeKey(of field: SchemaNode?) -> String? {
        guard let k = field?.patchMergeKey, !k.isEmpty else { return nil }
        return k
    }

    func checkDepth(_ depth: Int, _ path: SMPPath) throws(StrategicMergePatchError) {
        if depth > StrategicMergePatch.maxDepth {
            throw path.error("patch nesting exceeds \(StrategicMergePatch.maxDepth) levels")
        }
    }

    // MARK: Objects

    /// Merges object `patch` into `original`; `node` is the resolved schema of both.
    func mergeMap(
        _ original: [String: JSONValue], _ patch: [String: JSONValue], node: SchemaNode?, path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) -> [String: JSONValue] {
        try checkDepth(depth, path)
        var patch = patch
        if let directive = patch.removeValue(forKey: SMPDirective.patch) {
            switch directive.stringValue {
            case "replace":
                // The patch's own members become the whole object.
                return try mergeMap([:], patch, node: node, path: path, depth: depth)
            case "delete":
                // As in Go, the object is emptied, not removed from its parent.
                return [:]
            case "merge":
                break
            default:
                throw path.error("unknown $patch directive \(describe(directive)) on an object; expected replace, delete or merge")
            }
        }

        var result = original
        if let retain = patch.removeValue(forKey: SMPDirective.retainKeys) {
            try applyRetainKeys(retain, to: &result, patch: patch, path: path)
        }

        // Ordering directives first: each takes its list out of the patch and merges it itself.
        for key in patch.keys.sorted() where key.hasPrefix(SMPDirective.setElementOrder) {
            guard let order = patch.removeValue(forKey: key) else { continue }
            let name = try directiveTarget(key, prefix: SMPDirective.setElementOrder, path: path)
            let listPatch = patch.removeValue(forKey: name)
            try applyElementOrder(
                order, name: name, listPatch: listPatch, into: &result, node: node, path: path, depth: depth)
        }

        var deletions: [(key: String, value: JSONValue)] = []
        for key in patch.keys.sorted() {
            guard let value = patch[key] else { continue }
            if key.hasPrefix(SMPDirective.deleteFromPrimitiveList) {
                deletions.append((key, value))
                continue
            }
            if value.isNull {
                result.removeValue(forKey: key)
                continue
            }
            let fieldNode = field(key, in: node)
            let fieldPath = SMPPath.field(path, key)
            switch (result[key], value) {
            case (.object(let o)?, .object(let p)) where strategy(of: fieldNode) != .replace:
                result[key] = .object(try mergeMap(o, p, node: resolved(fieldNode), path: fieldPath, depth: depth + 1))
            case (.array(let o)?, .array(let p)):
                result[key] = .array(try mergeList(o, p, field: fieldNode, path: fieldPath, depth: depth + 1))
            default:
                // New member, a scalar, a type change or a `replace` field: the patch value wins.
                result[key] = try build(value, field: fieldNode, path: fieldPath, depth: depth + 1)
            }
        }

        // Deletions run after additions so a patch carrying both yields the same set either way.
        for (key, value) in deletions {
            let name = try directiveTarget(key, prefix: SMPDirective.deleteFromPrimitiveList, path: path)
            guard case .array(let remove) = value else {
                throw path.error("\(key) must be a list of values, got \(StrategicMergePatch.kindName(value))")
            }
            if case .array(let list)? = result[name] {
                let gone = Set(remove.map(SMPItemKey.init))
                result[name] = .array(list.filter { !gone.contains(SMPItemKey($0)) })
            }
        }
        return result
    }

    /// `$retainKeys`: members of the original not listed are cleared before the merge, and every
    /// member the patch sets must be listed.
    func applyRetainKeys(
        _ value: JSONValue, to original: inout [String: JSONValue], patch: [String: JSONValue], path: SMPPath
    ) throws(StrategicMergePatchError) {
        guard case .array(let list) = value else {
            throw path.error("$retainKeys must be a list of field names, got \(StrategicMergePatch.kindName(value))")
        }
        var keep: Set<String> = []
        for item in list {
            guard let name = item.stringValue else {
                throw path.error("$retainKeys must be a list of field names, found \(StrategicMergePatch.kindName(item))")
            }
            keep.insert(name)
        }
        for key in patch.keys.sorted() where !keep.contains(key) {
            if patch[key]?.isNull == true || key.hasPrefix(SMPDirective.deleteFromPrimitiveList)
                || key.hasPrefix(SMPDirective.setElementOrder)
            {
                continue
            }
            throw path.error("field \"\(key)\" is set by the patch but missing from $retainKeys")
        }
        original = original.filter { keep.contains($0.key) }
    }

    /// `<prefix>/<field>` -> `<field>`.
    func directiveTarget(_ key: String, prefix: String, path: SMPPath) throws(StrategicMergePatchError) -> String {
        let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == prefix, !parts[1].isEmpty else {
            throw path.error("malformed directive \"\(key)\"; expected \(prefix)/<field>")
        }
        return String(parts[1])
    }

    // MARK: Values with nothing to merge into

    /// The value a patch member takes when there is nothing to merge it into: nested `null`s
    /// dropped and directives resolved. Nil when the member should not exist
    /// (`{"$patch": "delete"}`).
    func build(
        _ value: JSONValue, field: SchemaNode?, path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) -> JSONValue? {
        switch value {
        case .object(let o):
            if let d = o[SMPDirective.patch], d.stringValue == "delete" { return nil }
            return .object(try mergeMap([:], o, node: resolved(field), path: path, depth: depth))
        case .array(let a):
            return .array(try buildList(a, items: items(of: field), path: path, depth: depth))
        default:
            return value
        }
    }

    /// A list taken from the patch as is (a replaced list, or one new to the document): items
    /// are kept in order and duplicates stay, as in Go, but list-level markers
    /// (`{"$patch": "replace"}`, delete items) have nothing to act on and are dropped.
    func buildList(
        _ list: [JSONValue], items itemNode: SchemaNode?, path: SMPPath, depth: Int
    ) throws(StrategicMergePatchError) -> [JSONValue] {
        try checkDepth(depth, path)
        var out: [JSONValue] = []
        out.reserveCapacity(list.count)
        for (i, item) in list.enumerated() {
            let itemPath = SMPPath.item(path, i)
            if case .object(let o) = item, let d = o[SMPDirective.patch] {
                switch d.stringValue {
                case "delete": continue
                case "replace", "merge": if o.count == 1 { continue }
                default: throw itemPath.error("unknown $patch directive \(describe(d)) in a list item")
                }
            }
            if let v = try build(item, field: itemNode, path: itemPath, depth: depth + 1) { out.append(v) }
        }
        return out
    }

    func describe(_ v: JSONValue) -> String {
        if let s = v.stringValue { return "\"\(s)\"" }
        return StrategicMergePatch.kindName(v)
    }
}

/// Identity of a list item for merging and ordering: the merge key's value, or a scalar item
/// itself. Numbers compare by value (`1` and `1.0` are one JSON number, as in Go's float64).
enum SMPItemKey: Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case other(JSONValue)

    init(_ v: JSONValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .array, .object: self = .other(v)
        }
    }
}
