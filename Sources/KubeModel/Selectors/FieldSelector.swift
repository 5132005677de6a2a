/// A Kubernetes field selector (`fields.ParseSelector`): `a=b,c!=d`, values may escape
/// `\,` `\=` `\\` (and `\!`).
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    /// One `field op value` term.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        /// `=` and `==` are the same test; `!=` is its negation.
        public enum Operator: String, Sendable, Hashable {
            case equals = "="
            case notEquals = "!="
        }

        /// Field path as written, e.g. `metadata.name`.
        public var field: String
        public var op: Operator
        /// Unescaped value.
        public var value: String

        public init(field: String, op: Operator, value: String) {
            self.field = field
            self.op = op
            self.value = value
        }

        /// `field=value` with the value re-escaped (`fields.EscapeValue`).
        public var description: String { field + op.rawValue + FieldSelector.escape(value) }
    }

    /// Terms in the sorted order Kubernetes keeps.
    public var requirements: [Requirement]

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// The empty selector.
    public static let everything = FieldSelector(requirements: [])

    /// True when there are no terms, so every object matches.
    public var isEverything: Bool { requirements.isEmpty }

    /// Whether an object passes; `value` gives a field's value (nil counts as empty, as
    /// `fields.Set.Get` returns "" for a missing field).
    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { r in
            let v = value(r.field) ?? ""
            return r.op == .equals ? v == r.value : v != r.value
        }
    }

    /// The value required by an `=` term on `field`, if any (e.g. to narrow a list by name).
    public func requiredValue(for field: String) -> String? {
        requirements.first { $0.field == field && $0.op == .equals }?.value
    }

    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// Parses Kubernetes' field selector syntax.
    public static func parse(_ s: String) throws(SelectorParseError) -> FieldSelector {
        var reqs: [Requirement] = []
        for term in splitTerms(s).sorted() where !term.isEmpty {
            guard let (lhs, op, rhs) = splitTerm(term) else {
                throw SelectorParseError("invalid selector: '\(s)'; can't understand '\(term)'")
            }
            reqs.append(Requirement(field: lhs, op: op, value: try unescape(rhs)))
        }
        return FieldSelector(requirements: reqs)
    }

    /// Splits on commas not preceded by a backslash; escapes stay in the terms.
    private static func splitTerms(_ s: String) -> [String] {
        guard !s.isEmpty else { return [] }
        var terms: [String] = []
        var current = ""
        var inSlash = false
        for c in s {
            if inSlash {
                inSlash = false
            } else if c == "\\" {
                inSlash = true
            } else if c == "," {
                terms.append(current)
                current = ""
                continue
            }
            current.append(c)
        }
        terms.append(current)
        return terms
    }

    /// First operator occurrence, trying `!=`, `==`, `=` at each position like Kubernetes.
    private static func splitTerm(_ term: String) -> (String, Requirement.Operator, String)? {
        var i = term.startIndex
        while i < term.endIndex {
            let rest = term[i...]
            if rest.hasPrefix("!=") { return (String(term[..<i]), .notEquals, String(rest.dropFirst(2))) }
            if rest.hasPrefix("==") { return (String(term[..<i]), .equals, String(rest.dropFirst(2))) }
            if rest.hasPrefix("=") { return (String(term[..<i]), .equals, String(rest.dropFirst(1))) }
            i = term.index(after: i)
        }
        return nil
    }

    private static func unescape(_ s: String) throws(SelectorParseError) -> String {
        var out = ""
        var inSlash = false
        for c in s {
            if inSlash {
                guard c == "\\" || c == "," || c == "=" || c == "!" else {
                    throw SelectorParseError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                inSlash = false
            } else if c == "\\" {
                inSlash = true
            } else if c == "," || c == "=" {
                throw SelectorParseError("invalid field selector: unescaped character in value: \(c)")
            } else {
                out.append(c)
            }
        }
        if inSlash { throw SelectorParseError("invalid field selector: invalid escape sequence: \\") }
        return out
    }

    /// `fields.EscapeValue`.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\\" || c == "," || c == "=" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
