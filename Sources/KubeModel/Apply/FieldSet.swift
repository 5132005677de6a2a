/// A set of field paths kept as a trie: each node may itself be a member (the `.` of FieldsV1)
/// and has children by path element. A path is in the set when the node it ends at is a member;
/// nodes that are neither members nor lead to one are pruned, so equal sets compare equal.
public struct FieldSet: Sendable, Hashable {
    /// Whether the path leading to this node is in the set (meaningless at the root).
    public var isMember: Bool
    public var children: [PathElement: FieldSet]

    public init(isMember: Bool = false, children: [PathElement: FieldSet] = [:]) {
        self.isMember = isMember
        self.children = children
    }

    /// A set holding just the path to this node.
    public static let member = FieldSet(isMember: true)

    /// The set of the given paths.
    public init(paths: [FieldPath]) {
        self.init()
        for p in paths { insert(p) }
    }

    /// True when no path is in the set.
    public var isEmpty: Bool { !isMember && children.isEmpty }

    /// Adds a path (an empty path makes this node a member).
    public mutating func insert(_ path: FieldPath) { insert(path.elements[...]) }

    private mutating func insert(_ rest: ArraySlice<PathElement>) {
        guard let first = rest.first else { isMember = true; return }
        var child = children[first] ?? FieldSet()
        child.insert(rest.dropFirst())
        children[first] = child
    }

    /// Whether the path is in the set.
    public func contains(_ path: FieldPath) -> Bool {
        var node = self
        for e in path.elements {
            guard let next = node.children[e] else { return false }
            node = next
        }
        return node.isMember
    }

    /// The subtree under `element`, or an empty set.
    public subscript(element: PathElement) -> FieldSet { children[element] ?? FieldSet() }

    /// Every path in the set, sorted.
    public var paths: [FieldPath] {
        var out: [FieldPath] = []
        collect(prefix: [], into: &out)
        return out.sorted()
    }

    private func collect(prefix: [PathElement], into out: inout [FieldPath]) {
        if isMember && !prefix.isEmpty { out.append(FieldPath(prefix)) }
        for (e, c) in children { c.collect(prefix: prefix + [e], into: &out) }
    }

    /// Paths in either set.
    public func union(_ other: FieldSet) -> FieldSet {
        var out = self
        out.isMember = isMember || other.isMember
        for (e, c) in other.children { out.children[e] = children[e].map { $0.union(c) } ?? c }
        return out
    }

    /// Paths in this set that are not in `other`.
    public func subtracting(_ other: FieldSet) -> FieldSet {
        var out = FieldSet(isMember: isMember && !other.isMember)
        for (e, c) in children {
            let rest = other.children[e].map { c.subtracting($0) } ?? c
            if !rest.isEmpty { out.children[e] = rest }
        }
        return out
    }

    /// Paths in both sets.
    public func intersection(_ other: FieldSet) -> FieldSet {
        var out = FieldSet(isMember: isMember && other.isMember)
        for (e, c) in children {
            guard let o = other.children[e] else { continue }
            let both = c.intersection(o)
            if !both.isEmpty { out.children[e] = both }
        }
        return out
    }

    /// Removes `path` and everything under it.
    public mutating func removeSubtree(_ path: [PathElement]) {
        guard let first = path.first else { self = FieldSet(); return }
        guard var child = children[first] else { return }
        if path.count == 1 {
            children[first] = nil
            return
        }
        child.removeSubtree(Array(path.dropFirst()))
        children[first] = child.isEmpty ? nil : child
    }

    /// Only `path` and what is under it (an empty set when absent).
    public func onlySubtree(_ path: [PathElement]) -> FieldSet {
        guard let first = path.first else { return self }
        guard let child = children[first] else { return FieldSet() }
        let sub = child.onlySubtree(Array(path.dropFirst()))
        return sub.isEmpty ? FieldSet() : FieldSet(children: [first: sub])
    }
}

// MARK: FieldsV1

/// Errors reading a FieldsV1 document.
public struct FieldsV1Error: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension FieldSet {
    /// The FieldsV1 JSON form: `{"f:spec":{"f:replicas":{}}}`; `".": {}` marks a node that is
    /// itself a member and also has children.
    public var fieldsV1: JSONValue {
        var o: [String: JSONValue] = [:]
        for (e, c) in children {
            var v = c.fieldsV1
            if c.isMember && !c.children.isEmpty { v["."] = .object([:]) }
            o[e.fieldsV1Key] = v
        }
        return .object(o)
    }

    /// Reads the FieldsV1 JSON form.
    public init(fieldsV1 json: JSONValue) throws(FieldsV1Error) {
        try self.init(fieldsV1: json, depth: 0)
    }

    private init(fieldsV1 json: JSONValue, depth: Int) throws(FieldsV1Error) {
        guard depth < 100 else { throw FieldsV1Error(message: "FieldsV1 nesting too deep") }
        guard let o = json.objectValue else { throw FieldsV1Error(message: "FieldsV1 must be a JSON object") }
        self.init()
        for (k, v) in o {
            if k == "." { continue }
            guard let e = PathElement(fieldsV1Key: k) else { throw FieldsV1Error(message: "invalid FieldsV1 key \(k)") }
            var child = try FieldSet(fieldsV1: v, depth: depth + 1)
            // A leaf (`{}`) or a node with `.` is itself a member.
            if child.children.isEmpty || v["."] != nil { child.isMember = true }
            children[e] = child
        }
    }
}
