import Foundation

/// Type conversions (`int()`, `uint()`, `double()`, `string()`, `bool()`, `bytes()`) and the
/// text form of values.
enum CELConversions {
    static func convert(_ name: String, _ v: CELValue) throws(CELError) -> CELValue {
        func rangeError() -> CELError { CELError.eval("range error converting \(v.typeName) to \(name)") }
        switch (name, v) {
        case ("int", .int): return v
        case ("int", .uint(let u)):
            guard u <= UInt64(Int64.max) else { throw rangeError() }
            return .int(Int64(u))
        case ("int", .double(let d)):
            guard d.isFinite, d > -9.223372036854775808e18 - 1, d < 9.223372036854775807e18 else { throw rangeError() }
            return .int(Int64(d.rounded(.towardZero)))
        case ("int", .string(let s)):
            guard let i = Int64(s) else { throw CELError.eval("type conversion error from 'string' to 'int'") }
            return .int(i)
        case ("int", .timestamp(let ns)): return .int(ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000)
        case ("int", .duration(let ns)): return .int(ns / 1_000_000_000)
        case ("uint", .uint): return v
        case ("uint", .int(let i)):
            guard i >= 0 else { throw rangeError() }
            return .uint(UInt64(i))
        case ("uint", .double(let d)):
            guard d.isFinite, d > -1, d < 1.8446744073709552e19 else { throw rangeError() }
            return .uint(UInt64(d.rounded(.towardZero)))
        case ("uint", .string(let s)):
            guard let u = UInt64(s) else { throw CELError.eval("type conversion error from 'string' to 'uint'") }
            return .uint(u)
        case ("double", .double): return v
        case ("double", .int(let i)): return .double(Double(i))
        case ("double", .uint(let u)): return .double(Double(u))
        case ("double", .string(let s)):
            guard let d = Double(s) else { throw CELError.eval("type conversion error from 'string' to 'double'") }
            return .double(d)
        case ("string", _):
            if case .bytes(let b) = v {
                guard let s = String(validating: b, as: UTF8.self) else { throw CELError.eval("invalid UTF-8 in bytes, cannot convert to string") }
                return .string(s)
            }
            guard let text = CELFormat.string(v) else { throw CELError.noOverload(name, [v]) }
            return .string(text)
        case ("bool", .bool): return v
        case ("bool", .string(let s)):
            switch s {
            case "1", "t", "true", "TRUE", "True": return .bool(true)
            case "0", "f", "false", "FALSE", "False": return .bool(false)
            default: throw CELError.eval("type conversion error from 'string' to 'bool'")
            }
        case ("bytes", .bytes): return v
        case ("bytes", .string(let s)): return .bytes(Array(s.utf8))
        default:
            throw CELError.noOverload(name, [v])
        }
    }
}

/// How values print: `string()` of scalars and the text in error messages.
enum CELFormat {
    /// `string(v)` for the scalar types that convert; nil for the others.
    static func string(_ v: CELValue) -> String? {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return goFloat(d)
        case .bool(let b): return String(b)
        case .duration(let ns): return CELTime.formatDuration(ns)
        case .timestamp(let ns): return CELTime.formatTimestamp(ns)
        case .type(let t): return t
        case .quantity(let q): return q.canonical
        default: return nil
        }
    }

    /// Any value as text, lists and maps included (error messages, `messageExpression` fallbacks).
    static func text(_ v: CELValue) -> String {
        switch v {
        case .null: return "null"
        case .list(let l): return "[" + l.map(text).joined(separator: ", ") + "]"
        case .map(let m): return "{" + m.entries.map { "\(text($0.key)): \(text($0.value))" }.joined(separator: ", ") + "}"
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .optional(let o): return o.map { "optional(\(text($0)))" } ?? "optional.none()"
        default: return string(v) ?? v.typeName
        }
    }

    /// Go's `strconv.FormatFloat(d, 'g', -1, 64)`: shortest digits, exponent form outside 1e-4..<1e21.
    static func goFloat(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        // Swift's description already holds the shortest round-tripping digits.
        var text = "\(abs(d))"
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var pointPos = parts[0].count + exp
        while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); pointPos -= 1 }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let x = pointPos - 1
        let sign = d < 0 ? "-" : ""
        if x < -4 || x >= 21 {
            let mant = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
            return "\(sign)\(mant)e\(x < 0 ? "-" : "+")\(abs(x) < 10 ? "0" : "")\(abs(x))"
        }
        if pointPos <= 0 { return sign + "0." + String(repeating: "0", count: -pointPos) + digits }
        if pointPos >= digits.count { return sign + digits + String(repeating: "0", count: pointPos - digits.count) }
        let i = digits.index(digits.startIndex, offsetBy: pointPos)
        return sign + digits[..<i] + "." + digits[i...]
    }
}
