/// A selector syntax or validation error; `message` reads like Kubernetes' own.
public struct SelectorParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Kubernetes-style text, without the API server's "unable to parse requirement" wrapping.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A Kubernetes label selector (`labels.Selector`): a conjunction of requirements.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// Operators of `k8s.io/apimachinery/pkg/selection`.
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One `key op values` term.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public var key: String
        public var op: Operator
        /// Sorted and de-duplicated, as Kubernetes keeps them in a set.
        public var values: [String]

        /// Validates like `labels.NewRequirement`. `keyPath` is the field path used in key
        /// errors ("<nil>" when parsing a selector string, as Kubernetes prints).
        public init(key: String, op: Operator, values: [String], keyPath: String = "key") throws(SelectorParseError) {
            self.key = key
            self.op = op
            self.values = Array(Set(values)).sorted()
            var errs: [String] = []
            if let e = LabelValidation.keyError(key, path: keyPath) { errs.append(e) }
            switch op {
            case .in, .notIn:
                if values.isEmpty { errs.append("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty") }
            case .equals, .doubleEquals, .notEquals:
                if self.values.count != 1 { errs.append("values: Invalid value: \(Self.goList(self.values)): exact-match compatibility requires one single value") }
            case .exists, .doesNotExist:
                if !values.isEmpty { errs.append("values: Invalid value: \(Self.goList(self.values)): values set must be empty for exists and does not exist") }
            case .greaterThan, .lessThan:
                if self.values.count != 1 { errs.append("values: Invalid value: \(Self.goList(self.values)): for 'Gt', 'Lt' operators, exactly one value is required") }
                for (i, v) in self.values.enumerated() where Int64(v) == nil {
                    errs.append("values[\(i)]: Invalid value: \"\(v)\": for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            for (i, v) in self.values.enumerated() {
                if let e = LabelValidation.valueError(v) { errs.append("values[\(i)][\(key)]: Invalid value: \"\(v)\": \(e)") }
            }
            if errs.count == 1 { throw SelectorParseError(errs[0]) }
            if errs.count > 1 { throw SelectorParseError("[" + errs.joined(separator: ", ") + "]") }
        }

        private static func goList(_ v: [String]) -> String {
            "[]string{" + v.map { "\"\($0)\"" }.joined(separator: ", ") + "}"
        }

        /// `labels.Requirement.Matches`.
        public func matches(_ labels: [String: String]) -> Bool {
            switch op {
            case .in, .equals, .doubleEquals:
                guard let v = labels[key] else { return false }
                return values.contains(v)
            case .notIn, .notEquals:
                guard let v = labels[key] else { return true }
                return !values.contains(v)
            case .exists: return labels[key] != nil
            case .doesNotExist: return labels[key] == nil
            case .greaterThan, .lessThan:
                guard let v = labels[key], let have = Int64(v), let want = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? have > want : have < want
            }
        }

        /// `labels.Requirement.String`, e.g. `tier in (a,b)`, `!key`, `n>3`.
        public var description: String {
            let joined = values.joined(separator: ",")
            switch op {
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .equals, .doubleEquals, .notEquals: return key + op.rawValue + joined
            case .in: return "\(key) in (\(joined))"
            case .notIn: return "\(key) notin (\(joined))"
            case .greaterThan: return key + ">" + joined
            case .lessThan: return key + "<" + joined
            }
        }
    }

    /// Requirements sorted by key, as `labels.Parse` keeps them.
    public private(set) var requirements: [Requirement]
    private var matchesNothing: Bool

    /// Builds a selector from requirements (sorted by key for a canonical description).
    public init(requirements: [Requirement]) {
        self.requirements = requirements.sorted { $0.key < $1.key }
        self.matchesNothing = false
    }

    private init(nothing: Bool) {
        self.requirements = []
        self.matchesNothing = nothing
    }

    /// Matches every label set (the empty selector).
    public static let everything = LabelSelector(nothing: false)
    /// Matches no label set (what a null `metav1.LabelSelector` means).
    public static let nothing = LabelSelector(nothing: true)

    /// True for the empty selector, which every label set passes.
    public var isEverything: Bool { !matchesNothing && requirements.isEmpty }
    /// True for the selector of a null `metav1.LabelSelector`.
    public var isNothing: Bool { matchesNothing }

    /// Whether a label set passes every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        if matchesNothing { return false }
        return requirements.allSatisfy { $0.matches(labels) }
    }

    /// Whether every key of a set-based selector (a Service's or ReplicationController's
    /// `spec.selector`) has its value in `labels`, as `labels.SelectorFromValidatedSet(set)`
    /// matches; the empty set matches everything.
    public static func setMatches(_ set: [String: String], _ labels: [String: String]) -> Bool {
        set.allSatisfy { labels[$0.key] == $0.value }
    }

    /// Canonical string form (`labels.Selector.String`); empty for everything and nothing.
    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// Parses the string syntax of `labels.Parse`: `a=b,c!=d,e in (f,g),!h,i,j>3`.
    public static func parse(_ s: String) throws(SelectorParseError) -> LabelSelector {
        var p = LabelSelectorParser(s)
        return LabelSelector(requirements: try p.parse())
    }

    /// Converts a `metav1.LabelSelector` object as `metav1.LabelSelectorAsSelector` does:
    /// null matches nothing, `{}` matches everything.
    public static func fromJSON(_ v: JSONValue) throws(SelectorParseError) -> LabelSelector {
        guard !v.isNull else { return .nothing }
        guard let o = v.objectValue else { throw SelectorParseError("label selector must be an object") }
        var reqs: [Requirement] = []
        if let ml = o["matchLabels"], !ml.isNull {
            guard let m = ml.objectValue else { throw SelectorParseError("matchLabels must be an object") }
            for (k, val) in m {
                guard let sv = val.stringValue else { throw SelectorParseError("matchLabels[\(k)] must be a string") }
                reqs.append(try Requirement(key: k, op: .equals, values: [sv]))
            }
        }
        if let me = o["matchExpressions"], !me.isNull {
            guard let exprs = me.arrayValue else { throw SelectorParseError("matchExpressions must be an array") }
            for e in exprs {
                guard let key = e["key"]?.stringValue else { throw SelectorParseError("matchExpressions[].key must be a string") }
                let raw = e["operator"]?.stringValue ?? ""
                let op: Operator
                switch raw {
                case "In": op = .in
                case "NotIn": op = .notIn
                case "Exists": op = .exists
                case "DoesNotExist": op = .doesNotExist
                default: throw SelectorParseError("\"\(raw)\" is not a valid label selector operator")
                }
                var values: [String] = []
                if let vs = e["values"], !vs.isNull {
                    guard let arr = vs.arrayValue else { throw SelectorParseError("matchExpressions[].values must be an array") }
                    for x in arr {
                        guard let s = x.stringValue else { throw SelectorParseError("matchExpressions[].values must be strings") }
                        values.append(s)
                    }
                }
                reqs.append(try Requirement(key: key, op: op, values: values))
            }
        }
        if reqs.isEmpty { return .everything }
        return LabelSelector(requirements: reqs)
    }
}

/// Label key and value rules of `k8s.io/apimachinery/pkg/util/validation`.
public enum LabelValidation {
    static let qualifiedNameMsg = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let subdomainMsg = "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let labelValueMsg = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`, non-empty.
    private static func isNamePart(_ b: Substring.UTF8View) -> Bool {
        guard let f = b.first, let l = b.last, isAlnum(f), isAlnum(l) else { return false }
        return b.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Lowercase RFC 1123 subdomain.
    public static func isDNSSubdomain(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            let b = label.utf8
            guard let f = b.first, let l = b.last else { return false }
            func ok(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
            return ok(f) && ok(l) && b.allSatisfy { ok($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// Problems with a qualified name (`IsQualifiedName`), joined by "; "; nil when valid.
    public static func qualifiedNameErrors(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var errs: [String] = []
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errs.append("prefix part must be non-empty")
            } else if !isDNSSubdomain(prefix) {
                if prefix.utf8.count > 253 { errs.append("prefix part must be no more than 253 characters") }
                else { errs.append(subdomainMsg) }
            }
        default:
            return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        }
        if name.isEmpty {
            errs.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errs.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty && !isNamePart(name.utf8) { errs.append(qualifiedNameMsg) }
        return errs.isEmpty ? nil : errs.joined(separator: "; ")
    }

    /// A key error in Kubernetes' `field.Invalid` form, or nil.
    static func keyError(_ key: String, path: String) -> String? {
        qualifiedNameErrors(key).map { "\(path): Invalid value: \"\(key)\": \($0)" }
    }

    /// Problems with a label value, or nil when valid (empty is valid).
    public static func valueError(_ v: String) -> String? {
        var errs: [String] = []
        if v.utf8.count > 63 { errs.append("must be no more than 63 characters") }
        if !v.isEmpty && !isNamePart(Substring(v).utf8) { errs.append(labelValueMsg) }
        return errs.isEmpty ? nil : errs.joined(separator: "; ")
    }
}
