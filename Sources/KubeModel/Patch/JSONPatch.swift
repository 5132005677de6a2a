/// Why a JSON patch could not be applied; wording follows evanphx/json-patch as used by
/// Kubernetes (e.g. `add operation does not apply: doc is missing path: "/a/b": missing value`).
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// RFC 6902 JSON Patch (`application/json-patch+json`).
public enum JSONPatch {
    /// Most operations accepted in one patch (Kubernetes' `maxJSONPatchOperations`).
    public static let maxOperations = 10_000
    /// Most nodes `copy` operations may add in total: copies share storage, so without a cap a
    /// few hundred self-copies describe a document too large to ever serialize.
    public static let maxCopiedNodes = 1_000_000

    /// Applies an array of operations in order; the first failure aborts the whole patch.
    public static func apply(_ operations: JSONValue, to target: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let ops = operations.arrayValue else { throw JSONPatchError("json patch must be an array of operations") }
        guard ops.count <= maxOperations else {
            throw JSONPatchError("The allowed maximum operations in a JSON patch is \(maxOperations), got \(ops.count)")
        }
        var doc = target
        var copyBudget = maxCopiedNodes
        for op in ops {
            guard case .object(let o) = op else { throw JSONPatchError("json patch operation must be an object") }
            let kind = o["op"]?.stringValue ?? ""
            func pointer(_ name: String) throws(JSONPatchError) -> [String] {
                guard let s = o[name]?.stringValue else { throw JSONPatchError("\(kind) operation failed to decode \(name): missing value") }
                return try parsePointer(s)
            }
            func value() throws(JSONPatchError) -> JSONValue {
                guard let v = o["value"] else { throw JSONPatchError("\(kind) operation does not apply: missing value") }
                return v
            }
            switch kind {
            case "add":
                let path = try pointer("path")
                try add(&doc, path, try value(), op: "add")
            case "remove":
                let path = try pointer("path")
                guard !path.isEmpty else { throw JSONPatchError("remove operation does not apply: cannot remove the document root") }
                _ = try remove(&doc, path, op: "remove")
            case "replace":
                let path = try pointer("path")
                let v = try value()
                if path.isEmpty { doc = v; continue }
                try modify(&doc, path, op: "replace") { (parent: inout JSONValue, key: String) throws(JSONPatchError) in
                    switch parent {
                    case .object(var m):
                        guard m[key] != nil else { throw missing("replace operation does not apply: doc is missing key: \(render(path))") }
                        parent = .null
                        m[key] = v
                        parent = .object(m)
                    case .array(var a):
                        let i = try index(key, count: a.count, allowEnd: false)
                        parent = .null
                        a[i] = v
                        parent = .array(a)
                    default:
                        throw missing("replace operation does not apply: doc is missing path: \(render(path))")
                    }
                }
            case "move":
                let from = try pointer("from")
                let path = try pointer("path")
                if from == path { continue }
                if path.count > from.count, Array(path.prefix(from.count)) == from {
                    throw JSONPatchError("move operation does not apply: from \(render(from)) is a prefix of path \(render(path))")
                }
                guard !from.isEmpty else { throw JSONPatchError("move operation does not apply: cannot move the document root") }
                let v = try remove(&doc, from, op: "move")
                try add(&doc, path, v, op: "move")
            case "copy":
                let from = try pointer("from")
                let path = try pointer("path")
                guard let v = get(doc, from) else {
                    throw missing("copy operation does not apply: doc is missing from path: \(render(from))")
                }
                let size = nodeCount(v, limit: copyBudget + 1)
                copyBudget -= size
                guard copyBudget >= 0 else {
                    throw JSONPatchError("Unable to complete the copy, the accumulated size increase of copy exceeds the limit of \(maxCopiedNodes) nodes")
                }
                try add(&doc, path, v, op: "copy")
            case "test":
                let path = try pointer("path")
                let want = o["value"] ?? .null
                guard let have = get(doc, path), jsonEqual(have, want) else {
                    throw JSONPatchError("testing value \(render(path)) failed: test failed")
                }
            default:
                throw JSONPatchError("Unexpected kind: \(kind)")
            }
        }
        return doc
    }

    // MARK: - Pointers

    /// RFC 6901 pointer → reference tokens (`~1` is `/`, `~0` is `~`).
    static func parsePointer(_ s: String) throws(JSONPatchError) -> [String] {
        if s.isEmpty { return [] }
        guard s.hasPrefix("/") else { throw JSONPatchError("invalid JSON pointer \"\(s)\": must start with '/'") }
        return s.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.contains("~") ? String($0).replacing("~1", with: "/").replacing("~0", with: "~") : String($0)
        }
    }

    static func render(_ tokens: [String]) -> String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    private static func missing(_ message: String) -> JSONPatchError { JSONPatchError(message + ": missing value") }

    /// An array index token: digits without leading zeros; `-` (one past the end) when allowed.
    private static func index(_ token: String, count: Int, allowEnd: Bool) throws(JSONPatchError) -> Int {
        if token == "-" && allowEnd { return count }
        let u = token.utf8
        guard !u.isEmpty, u.count <= 18, u.allSatisfy({ $0 >= 48 && $0 <= 57 }), u.first != 48 || u.count == 1,
            let i = Int(token)
        else { throw JSONPatchError("Unable to access invalid index: \(token): invalid index referenced") }
        guard i < count || (allowEnd && i == count) else {
            throw JSONPatchError("Unable to access invalid index: \(i): invalid index referenced")
        }
        return i
    }

    static func get(_ doc: JSONValue, _ tokens: [String]) -> JSONValue? {
        var cur = doc
        for t in tokens {
            switch cur {
            case .object(let o):
                guard let next = o[t] else { return nil }
                cur = next
            case .array(let a):
                guard let i = try? index(t, count: a.count, allowEnd: false) else { return nil }
                cur = a[i]
            default: return nil
            }
        }
        return cur
    }

    /// Walks to the parent of the last token (callers handle the root pointer) and runs `body`
    /// on it in place. Containers are detached while edited so copy-on-write never duplicates them.
    private static func modify(
        _ doc: inout JSONValue, _ tokens: [String], op: String,
        _ body: (inout JSONValue, String) throws(JSONPatchError) -> Void
    ) throws(JSONPatchError) {
        guard let last = tokens.last else { return }
        try descend(&doc, tokens[..<(tokens.count - 1)], tokens, op: op) { (parent: inout JSONValue) throws(JSONPatchError) in
            try body(&parent, last)
        }
    }

    private static func descend(
        _ node: inout JSONValue, _ rest: ArraySlice<String>, _ full: [String], op: String,
        _ body: (inout JSONValue) throws(JSONPatchError) -> Void
    ) throws(JSONPatchError) {
        guard let t = rest.first else { return try body(&node) }
        switch node {
        case .object(var o):
            guard var child = o[t] else { throw missing("\(op) operation does not apply: doc is missing path: \"\(render(full))\"") }
            node = .null
            o[t] = nil
            try descend(&child, rest.dropFirst(), full, op: op, body)
            o[t] = child
            node = .object(o)
        case .array(var a):
            guard let i = try? index(t, count: a.count, allowEnd: false) else {
                throw missing("\(op) operation does not apply: doc is missing path: \"\(render(full))\"")
            }
            node = .null
            var child = a[i]
            a[i] = .null
            try descend(&child, rest.dropFirst(), full, op: op, body)
            a[i] = child
            node = .array(a)
        default:
            throw missing("\(op) operation does not apply: doc is missing path: \"\(render(full))\"")
        }
    }

    private static func add(_ doc: inout JSONValue, _ path: [String], _ value: JSONValue, op: String) throws(JSONPatchError) {
        if path.isEmpty { doc = value; return }
        try modify(&doc, path, op: op) { (parent: inout JSONValue, key: String) throws(JSONPatchError) in
            switch parent {
            case .object(var m):
                parent = .null
                m[key] = value
                parent = .object(m)
            case .array(var a):
                let i = try index(key, count: a.count, allowEnd: true)
                parent = .null
                a.insert(value, at: i)
                parent = .array(a)
            default:
                throw missing("\(op) operation does not apply: doc is missing path: \"\(render(path))\"")
            }
        }
    }

    /// Removes and returns the value at a non-root path.
    private static func remove(_ doc: inout JSONValue, _ path: [String], op: String) throws(JSONPatchError) -> JSONValue {
        var removed: JSONValue = .null
        try modify(&doc, path, op: op) { (parent: inout JSONValue, key: String) throws(JSONPatchError) in
            switch parent {
            case .object(var m):
                parent = .null
                guard let v = m.removeValue(forKey: key) else {
                    parent = .object(m)
                    throw missing(op == "move" ? "move operation does not apply: doc is missing from path: \(render(path))"
                                              : "Unable to remove nonexistent key: \(key)")
                }
                removed = v
                parent = .object(m)
            case .array(var a):
                let i = try index(key, count: a.count, allowEnd: false)
                parent = .null
                removed = a.remove(at: i)
                parent = .array(a)
            default:
                throw missing("\(op) operation does not apply: doc is missing path: \"\(render(path))\"")
            }
        }
        return removed
    }

    // MARK: - Values

    /// JSON equality: numbers compare by value (`1` equals `1.0`), objects ignore order.
    public static func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y && Int64(exactly: y) == x
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { jsonEqual(v, $0) } ?? false }
        default: return a == b
        }
    }

    /// Node count of `v`, stopping early once `limit` is reached (shared subtrees can make the
    /// logical size astronomically larger than memory).
    static func nodeCount(_ v: JSONValue, limit: Int) -> Int {
        var n = 0
        var stack = [v]
        while let top = stack.popLast() {
            n += 1
            if n >= limit { return n }
            switch top {
            case .array(let a): stack.append(contentsOf: a)
            case .object(let o): stack.append(contentsOf: o.values)
            default: break
            }
        }
        return n
    }
}
