import Foundation
import KubeModel
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small helpers the per-kind strategies share: defaulting, label selectors, message
/// rendering. Kept in one namespace so they cannot clash with other modules' extensions.
enum ResourceKit {
    // MARK: paths and values

    static func idx(_ path: String, _ i: Int) -> String { "\(path)[\(i)]" }
    static func key(_ path: String, _ k: String) -> String { "\(path)[\(k)]" }
    static func child(_ path: String, _ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }

    /// Sets `obj[key]` when missing or null; does nothing on non-objects.
    static func fill(_ obj: inout JSONValue, _ key: String, _ value: JSONValue) {
        guard obj.objectValue != nil else { return }
        if obj[key] == nil || obj[key]?.isNull == true { obj[key] = value }
    }

    /// Applies `body` to each object element of the array at `obj[key]`.
    static func eachElement(_ obj: inout JSONValue, _ key: String, _ body: (inout JSONValue) -> Void) {
        guard var arr = obj[key]?.arrayValue else { return }
        for i in arr.indices where arr[i].objectValue != nil { body(&arr[i]) }
        obj[key] = .array(arr)
    }

    /// Applies `body` to the object at `obj[key]` if present.
    static func withChild(_ obj: inout JSONValue, _ key: String, _ body: (inout JSONValue) -> Void) {
        guard var c = obj[key], c.objectValue != nil else { return }
        body(&c)
        obj[key] = c
    }

    static func string(_ v: JSONValue?) -> String { v?.stringValue ?? "" }
    static func int(_ v: JSONValue?) -> Int64 { v?.intValue ?? 0 }
    static func array(_ v: JSONValue?) -> [JSONValue] { v?.arrayValue ?? [] }

    static func stringMap(_ v: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for (k, x) in v?.objectValue ?? [:] { if let s = x.stringValue { out[k] = s } }
        return out
    }

    /// Go's `%v` of a `map[string]string` as Kubernetes messages show it.
    static func showStringMap(_ v: JSONValue?) -> String {
        let m = stringMap(v)
        let body = m.keys.sorted().map { "\"\($0)\":\"\(m[$0] ?? "")\"" }.joined(separator: ", ")
        return "map[string]string{\(body)}"
    }

    // MARK: numeric checks, as apimachinery's validation helpers

    static func nonnegative(_ v: JSONValue?, _ path: String) -> [FieldError] {
        guard let v, !v.isNull else { return [] }
        guard let n = v.intValue else { return [FieldError(.typeInvalid, path, value: FieldError.show(v), "must be an integer")] }
        return n < 0 ? [.invalid(path, String(n), "must be greater than or equal to 0")] : []
    }

    static func inRange(_ v: JSONValue?, _ path: String, _ lo: Int64, _ hi: Int64) -> [FieldError] {
        guard let v, !v.isNull else { return [] }
        guard let n = v.intValue else { return [FieldError(.typeInvalid, path, value: FieldError.show(v), "must be an integer")] }
        return (lo...hi).contains(n) ? [] : [.invalid(path, String(n), "must be between \(lo) and \(hi), inclusive")]
    }

    static func enumValue(_ v: JSONValue?, _ path: String, _ allowed: [String], required: Bool = true) -> [FieldError] {
        guard let s = v?.stringValue, !s.isEmpty else {
            return required ? [.required(path, "")] : []
        }
        return allowed.contains(s) ? [] : [.notSupported(path, FieldError.show(.string(s)), allowed)]
    }

    /// `intstr` fields such as `maxSurge`: an integer or a `N%` string.
    static func positiveIntOrPercent(_ v: JSONValue?, _ path: String) -> [FieldError] {
        guard let v, !v.isNull else { return [] }
        if let n = v.intValue { return n < 0 ? [.invalid(path, String(n), "must be greater than or equal to 0")] : [] }
        guard let s = v.stringValue else { return [FieldError(.typeInvalid, path, value: FieldError.show(v), "must be an integer or percentage")] }
        if percentValue(s) == nil {
            return [.invalid(path, FieldError.show(v), NameValidation.regexError(
                "a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%", "1%", "93%"))]
        }
        return []
    }

    /// `25%` → 25; nil if not of the form `[0-9]+%`.
    static func percentValue(_ s: String) -> Int64? {
        guard s.hasSuffix("%"), s.count > 1 else { return nil }
        let digits = s.dropLast()
        guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int64(digits)
    }

    // MARK: label selectors (metav1.LabelSelector)

    static func selectorIsEmpty(_ selector: JSONValue?) -> Bool {
        stringMap(selector?["matchLabels"]).isEmpty && array(selector?["matchExpressions"]).isEmpty
    }

    /// `labels.Selector.String()` of a LabelSelector: requirements sorted by key.
    static func selectorString(_ selector: JSONValue?) -> String {
        guard let selector else { return "" }
        var reqs: [(String, String)] = []
        for (k, v) in stringMap(selector["matchLabels"]) { reqs.append((k, "\(k)=\(v)")) }
        for req in array(selector["matchExpressions"]) {
            let key = string(req["key"])
            let values = array(req["values"]).compactMap(\.stringValue).sorted().joined(separator: ",")
            switch string(req["operator"]) {
            case "In": reqs.append((key, "\(key) in (\(values))"))
            case "NotIn": reqs.append((key, "\(key) notin (\(values))"))
            case "Exists": reqs.append((key, key))
            case "DoesNotExist": reqs.append((key, "!\(key)"))
            default: break
            }
        }
        return reqs.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ",")
    }

    /// `metav1.FormatLabelSelector`: `<none>` for a nil or empty selector.
    static func formatLabelSelector(_ selector: JSONValue?) -> String {
        let s = selectorString(selector)
        return s.isEmpty ? "<none>" : s
    }

    /// `labels.FormatLabels`: `k=v` sorted, `<none>` when empty.
    static func formatLabels(_ m: [String: String]) -> String {
        m.isEmpty ? "<none>" : m.keys.sorted().map { "\($0)=\(m[$0] ?? "")" }.joined(separator: ",")
    }

    /// `ValidateLabelSelector`: label keys/values and operator rules.
    static func validateLabelSelector(_ selector: JSONValue?, _ path: String) -> [FieldError] {
        guard let selector, !selector.isNull else { return [] }
        var errs = NameValidation.validateLabels(selector["matchLabels"], path: child(path, "matchLabels"))
        for (i, req) in array(selector["matchExpressions"]).enumerated() {
            let p = idx(child(path, "matchExpressions"), i)
            let values = array(req["values"])
            let op = string(req["operator"])
            switch op {
            case "In", "NotIn":
                if values.isEmpty {
                    errs.append(.required(child(p, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
                }
            case "Exists", "DoesNotExist":
                if !values.isEmpty {
                    errs.append(.forbidden(child(p, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            default:
                errs.append(.invalid(child(p, "operator"), FieldError.show(.string(op)), "not a valid selector operator"))
            }
            let key = string(req["key"])
            for m in NameValidation.isQualifiedName(key) {
                errs.append(.invalid(child(p, "key"), FieldError.show(.string(key)), m))
            }
            for (j, v) in values.enumerated() {
                for m in NameValidation.isValidLabelValue(v.stringValue ?? "") {
                    errs.append(.invalid(idx(child(p, "values"), j), FieldError.show(v), m))
                }
            }
        }
        return errs
    }

    // MARK: immutability

    /// `ValidateImmutableField`.
    static func immutable(_ new: JSONValue?, _ old: JSONValue?, _ path: String) -> [FieldError] {
        let n = (new?.isNull ?? true) ? nil : new
        let o = (old?.isNull ?? true) ? nil : old
        return n == o ? [] : [.invalid(path, FieldError.show(n), "field is immutable")]
    }

    // MARK: IP addresses

    static func isIPv4(_ s: String) -> Bool {
        var a = in_addr()
        return !s.isEmpty && inet_pton(AF_INET, s, &a) == 1
    }

    static func isIPv6(_ s: String) -> Bool {
        var a = in6_addr()
        return !s.isEmpty && inet_pton(AF_INET6, s, &a) == 1
    }

    static func isIP(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// `validation.IsValidIP` as a field error.
    static func validateIP(_ s: String, _ path: String) -> [FieldError] {
        isIP(s) ? [] : [.invalid(path, FieldError.show(.string(s)), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    }

    // MARK: base64 (Secret data)

    static func isBase64(_ s: String) -> Bool { Data(base64Encoded: s) != nil }
    static func base64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }

    /// Ages for columns that show a timestamp other than creation.
    static func since(_ ts: JSONValue?, now: Date) -> String {
        guard let s = ts?.stringValue, let d = Timestamp.parse(s) else { return "<unknown>" }
        return TableFormat.humanDuration(now.timeIntervalSince(d))
    }
}
