/// Resolves YAML scalars to JSON the way go-yaml v2 does (what `sigs.k8s.io/yaml`, and so
/// kubectl and the API server, use): YAML 1.1 booleans, Go `ParseInt(s, 0, 64)` integers
/// (so `0755` is octal and `1_000` is 1000), timestamps kept as strings.
enum ScalarResolver {
    private static let yamlTagPrefix = "tag:yaml.org,2002:"

    static func resolve(_ s: String, plain: Bool, tag: String?, line: Int) throws(YAMLParseError) -> JSONValue {
        guard let tag else { return plain ? try implicit(s, line: line) : .string(s) }
        guard tag.hasPrefix(yamlTagPrefix) else { return .string(s) }  // "!" and custom tags
        let short = tag.dropFirst(yamlTagPrefix.count)
        let wanted: String
        switch short {
        case "null", "bool", "int", "float": wanted = String(short)
        case "binary":
            // go-yaml decodes base64 to bytes and encoding/json re-encodes them: same text minus whitespace.
            return .string(String(s.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init)))
        default: return .string(s)  // str, timestamp, custom tags
        }
        let v = try implicit(s, line: line)
        switch (wanted, v) {
        case ("null", .null), ("bool", .bool), ("int", .int): return v
        case ("float", .double): return v
        case ("float", .int(let i)): return .double(Double(i))
        default:
            let got: String
            switch v {
            case .null: got = "null"
            case .bool: got = "bool"
            case .int: got = "int"
            case .double: got = "float"
            default: got = "str"
            }
            throw YAMLParseError("yaml: line \(line): cannot decode !!\(got) `\(s)` as a !!\(wanted)", line: line)
        }
    }

    static func implicit(_ s: String, line: Int) throws(YAMLParseError) -> JSONValue {
        switch s {
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE": return .bool(true)
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE": return .bool(false)
        case "", "~", "null", "Null", "NULL": return .null
        case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
            // encoding/json refuses NaN and infinities, so sigs.k8s.io/yaml fails too.
            throw YAMLParseError("yaml: line \(line): unsupported value: \(s) cannot be represented in JSON", line: line)
        default: break
        }
        guard let first = s.utf8.first else { return .string(s) }
        switch first {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            let plainDigits = Array(s.utf8.filter { $0 != UInt8(ascii: "_") })
            if let v = goParseInt(plainDigits) { return v }
            if isYAMLFloat(plainDigits), let d = Double(String(decoding: plainDigits, as: UTF8.self)), d.isFinite {
                return .double(d)
            }
            return .string(s)
        case UInt8(ascii: "."):
            let bytes = Array(s.utf8)
            if isYAMLFloat(bytes), let d = Double(s), d.isFinite { return .double(d) }
            return .string(s)
        default:
            return .string(s)
        }
    }

    /// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint` for big positives
    /// (which become doubles here, as JSON numbers beyond Int64).
    static func goParseInt(_ b: [UInt8]) -> JSONValue? {
        var i = 0
        var negative = false
        var signed = false
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            negative = b[i] == UInt8(ascii: "-")
            signed = true
            i += 1
        }
        var base: UInt64 = 10
        if i + 1 < b.count, b[i] == UInt8(ascii: "0") {
            switch b[i + 1] {
            case UInt8(ascii: "x"), UInt8(ascii: "X"): base = 16; i += 2
            case UInt8(ascii: "o"), UInt8(ascii: "O"): base = 8; i += 2
            case UInt8(ascii: "b"), UInt8(ascii: "B"): base = 2; i += 2
            default: base = 8; i += 1  // legacy leading-zero octal
            }
        }
        guard i < b.count else { return nil }
        var mag: UInt64 = 0
        while i < b.count {
            let c = b[i]
            let d: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt64(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt64(c - 55)
            default: return nil
            }
            guard d < base else { return nil }
            let (m, o1) = mag.multipliedReportingOverflow(by: base)
            let (n, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            mag = n
            i += 1
        }
        if negative {
            if mag <= UInt64(Int64.max) { return .int(-Int64(mag)) }
            if mag == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            return nil
        }
        if mag <= UInt64(Int64.max) { return .int(Int64(mag)) }
        return signed ? nil : .double(Double(mag))
    }

    /// go-yaml's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    static func isYAMLFloat(_ b: [UInt8]) -> Bool {
        var i = 0
        func digits() -> Int {
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            return i - start
        }
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if i < b.count, b[i] == UInt8(ascii: ".") {
                i += 1
                _ = digits()
            }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == b.count
    }

    /// Whether a plain (unquoted) scalar with this text would read back as something other than
    /// the same string; the encoder quotes such strings.
    static func needsQuoting(_ s: String) -> Bool {
        guard let v = try? implicit(s, line: 0) else { return true }
        return v != .string(s)
    }
}
