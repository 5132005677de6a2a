/// The name and value checks of Kubernetes' `apimachinery/pkg/util/validation`, with the same
/// messages so clients (and tests written against a real cluster) see identical errors.
/// The `is…` functions return error messages; an empty array means valid.
public enum NameValidation {
    /// How a kind's `metadata.name` is checked.
    public enum NameRule: Sendable, Hashable {
        case dns1123Subdomain, dns1123Label, dns1035Label, pathSegment
    }

    static let dns1123LabelFmt = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainFmt = dns1123LabelFmt + "(\\." + dns1123LabelFmt + ")*"
    static let dns1035LabelFmt = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let qualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let qualifiedNameMsg =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelValueFmt = "(" + qualifiedNameFmt + ")?"
    static let cIdentifierFmt = "[A-Za-z_][A-Za-z0-9_]*"
    static let configMapKeyFmt = "[-._a-zA-Z0-9]+"

    /// Kubernetes' `MaxLenError`.
    public static func maxLenError(_ n: Int) -> String { "must be no more than \(n) characters" }

    /// Kubernetes' `RegexError`: the message, examples and the regex.
    public static func regexError(_ msg: String, _ fmt: String, _ examples: String...) -> String {
        guard !examples.isEmpty else { return msg + " (regex used for validation is '\(fmt)')" }
        let ex = examples.map { "'\($0)'" }.joined(separator: ",  or ")
        return msg + " (e.g. \(ex), regex used for validation is '\(fmt)')"
    }

    // MARK: character classes (ASCII only, as the Go regexes)

    @inline(__always) static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 65 && c <= 90) }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, with `firstAlpha` for the DNS-1035 form.
    static func matchesLabel(_ b: ArraySlice<UInt8>, firstAlpha: Bool = false) -> Bool {
        guard let f = b.first, let l = b.last else { return false }
        if firstAlpha ? !(f >= 97 && f <= 122) : !isLowerAlnum(f) { return false }
        guard isLowerAlnum(l) else { return false }
        return b.allSatisfy { isLowerAlnum($0) || $0 == 45 }
    }

    static func matchesQualifiedName(_ b: ArraySlice<UInt8>) -> Bool {
        guard let f = b.first, let l = b.last, isAlnum(f), isAlnum(l) else { return false }
        return b.allSatisfy { isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }
    }

    // MARK: names

    /// RFC 1123 label: at most 63 lowercase alphanumerics or '-', alphanumeric at both ends.
    public static func isDNS1123Label(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > 63 { errs.append(maxLenError(63)) }
        if !matchesLabel(b[...]) {
            errs.append(regexError(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                dns1123LabelFmt, "my-name", "123-abc"))
        }
        return errs
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
    public static func isDNS1123Subdomain(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > 253 { errs.append(maxLenError(253)) }
        let ok = !b.isEmpty && b.split(separator: 46, omittingEmptySubsequences: false).allSatisfy { matchesLabel($0) }
        if !ok {
            errs.append(regexError(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                dns1123SubdomainFmt, "example.com"))
        }
        return errs
    }

    /// RFC 1035 label: like a 1123 label but starting with a letter (Service names).
    public static func isDNS1035Label(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > 63 { errs.append(maxLenError(63)) }
        if !matchesLabel(b[...], firstAlpha: true) {
            errs.append(regexError(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
                dns1035LabelFmt, "my-name", "abc-123"))
        }
        return errs
    }

    /// Label and annotation keys: `name` or `prefix/name`, the prefix a DNS subdomain.
    public static func isQualifiedName(_ value: String) -> [String] {
        var errs: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errs.append("prefix part must be non-empty")
            } else {
                errs += isDNS1123Subdomain(String(prefix)).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + regexError(qualifiedNameMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        let nb = Array(name.utf8)
        if nb.isEmpty {
            errs.append("name part must be non-empty")
        } else if nb.count > 63 {
            errs.append("name part " + maxLenError(63))
        }
        if !matchesQualifiedName(nb[...]) {
            errs.append("name part " + regexError(qualifiedNameMsg, qualifiedNameFmt, "MyName", "my.name", "123-abc"))
        }
        return errs
    }

    /// Label values: empty, or up to 63 characters shaped like a qualified name.
    public static func isValidLabelValue(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > 63 { errs.append(maxLenError(63)) }
        if !b.isEmpty && !matchesQualifiedName(b[...]) {
            errs.append(regexError(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                labelValueFmt, "MyValue", "my_value", "12345"))
        }
        return errs
    }

    /// TCP/UDP port numbers.
    public static func isValidPortNumber(_ port: Int64) -> [String] {
        (1...65535).contains(port) ? [] : ["must be between 1 and 65535, inclusive"]
    }

    /// IANA_SVC_NAME (RFC 6335): named container/service ports.
    public static func isValidPortName(_ port: String) -> [String] {
        var errs: [String] = []
        let b = Array(port.utf8)
        if b.count > 15 { errs.append(maxLenError(15)) }
        if b.isEmpty || !b.allSatisfy({ isLowerAlnum($0) || $0 == 45 }) {
            errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !b.contains(where: { $0 >= 97 && $0 <= 122 }) { errs.append("must contain at least one letter (a-z)") }
        if port.contains("--") { errs.append("must not contain consecutive hyphens") }
        if let f = b.first, let l = b.last, f == 45 || l == 45 { errs.append("must not begin or end with a hyphen") }
        return errs
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isCIdentifier(_ value: String) -> [String] {
        let b = Array(value.utf8)
        if let f = b.first, isAlpha(f) || f == 95, b.allSatisfy({ isAlnum($0) || $0 == 95 }) { return [] }
        return [regexError(
            "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'",
            cIdentifierFmt, "my_name", "MY_NAME", "MyName")]
    }

    /// Environment variable names. Kubernetes 1.33 enables RelaxedEnvironmentVariableValidation
    /// by default: any printable ASCII except '='.
    public static func isEnvVarName(_ value: String) -> [String] {
        let b = Array(value.utf8)
        if !b.isEmpty && b.allSatisfy({ $0 >= 32 && $0 <= 126 && $0 != 61 }) { return [] }
        return ["a valid environment variable name must consist only of printable ASCII characters other than '='"]
    }

    /// Keys of ConfigMap/Secret data: `[-._a-zA-Z0-9]+`, at most 253, no `.`/`..` prefixes.
    public static func isConfigMapKey(_ value: String) -> [String] {
        var errs: [String] = []
        let b = Array(value.utf8)
        if b.count > 253 { errs.append(maxLenError(253)) }
        if b.isEmpty || !b.allSatisfy({ isAlnum($0) || $0 == 45 || $0 == 95 || $0 == 46 }) {
            errs.append(regexError(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                configMapKeyFmt, "key.name", "KEY_NAME", "key-name"))
        }
        if value == "." {
            errs.append("must not be '.'")
        } else if value == ".." {
            errs.append("must not be '..'")
        } else if value.hasPrefix("..") {
            errs.append("must not start with '..'")
        }
        return errs
    }

    /// Names used as a single URL path segment (e.g. RBAC objects).
    public static func isPathSegmentName(_ value: String) -> [String] {
        var errs: [String] = []
        if value == "." || value == ".." { errs.append("may not be '\(value)'") }
        for bad in ["/", "%"] where value.contains(bad) { errs.append("may not contain '\(bad)'") }
        return errs
    }

    // MARK: field-level validation

    /// `metadata.name` (or another object-name field) under a kind's naming rule.
    public static func validateObjectName(_ name: String, path: String, rule: NameRule) -> [FieldError] {
        let msgs: [String]
        switch rule {
        case .dns1123Subdomain: msgs = isDNS1123Subdomain(name)
        case .dns1123Label: msgs = isDNS1123Label(name)
        case .dns1035Label: msgs = isDNS1035Label(name)
        case .pathSegment: msgs = isPathSegmentName(name)
        }
        return msgs.map { FieldError.invalid(path, FieldError.show(.string(name)), $0) }
    }

    /// A label map (`metadata.labels`, `spec.selector.matchLabels`, template labels).
    public static func validateLabels(_ labels: JSONValue?, path: String) -> [FieldError] {
        guard let labels, !labels.isNull else { return [] }
        guard let map = labels.objectValue else {
            return [FieldError(.typeInvalid, path, value: FieldError.show(labels), "must be a map of string keys to string values")]
        }
        var errs: [FieldError] = []
        for key in map.keys.sorted() {
            for m in isQualifiedName(key) { errs.append(.invalid(path, FieldError.show(.string(key)), m)) }
            guard let v = map[key]?.stringValue else {
                errs.append(FieldError(.typeInvalid, "\(path).\(key)", value: FieldError.show(map[key]), "must be a string"))
                continue
            }
            for m in isValidLabelValue(v) { errs.append(.invalid(path, FieldError.show(.string(v)), m)) }
        }
        return errs
    }

    /// Total size limit of an object's annotations (256 KiB), as Kubernetes.
    public static let totalAnnotationSizeLimit = 256 * 1024

    /// `metadata.annotations`: keys are qualified names (case-insensitive), total size bounded.
    public static func validateAnnotations(_ annotations: JSONValue?, path: String) -> [FieldError] {
        guard let annotations, !annotations.isNull else { return [] }
        guard let map = annotations.objectValue else {
            return [FieldError(.typeInvalid, path, value: FieldError.show(annotations), "must be a map of string keys to string values")]
        }
        var errs: [FieldError] = []
        var total = 0
        for key in map.keys.sorted() {
            for m in isQualifiedName(key.lowercased()) { errs.append(.invalid(path, FieldError.show(.string(key)), m)) }
            guard let v = map[key]?.stringValue else {
                errs.append(FieldError(.typeInvalid, "\(path).\(key)", value: FieldError.show(map[key]), "must be a string"))
                continue
            }
            total += key.utf8.count + v.utf8.count
        }
        if total > totalAnnotationSizeLimit {
            errs.append(FieldError(.tooLong, path, "must have at most \(totalAnnotationSizeLimit) bytes"))
        }
        return errs
    }
}

/// Top-level alias so callers can write `NameRule.dns1123Label`.
public typealias NameRule = NameValidation.NameRule
