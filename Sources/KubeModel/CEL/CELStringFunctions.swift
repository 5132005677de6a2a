import Foundation

/// String functions: the standard ones (`size`, `contains`, `startsWith`, `endsWith`,
/// `matches`), CEL's strings extension (indices count code points) and Kubernetes' regex
/// library (`find`, `findAll`).
enum CELStringFunctions {
    static func call(_ name: String, _ receiver: CELValue, _ args: [CELValue]) throws(CELError) -> CELValue {
        guard case .string(let s) = receiver else { throw CELError.noOverload(name, [receiver] + args) }
        func fail() -> CELError { CELError.noOverload(name, [receiver] + args) }
        func str(_ i: Int) throws(CELError) -> String {
            guard i < args.count, case .string(let v) = args[i] else { throw fail() }
            return v
        }
        func int(_ i: Int) throws(CELError) -> Int64 {
            guard i < args.count, case .int(let v) = args[i] else { throw fail() }
            return v
        }
        let scalars = Array(s.unicodeScalars)
        switch (name, args.count) {
        case ("size", 0): return .int(Int64(scalars.count))
        case ("contains", 1): let t = try str(0); return .bool(t.isEmpty || s.contains(t))
        case ("startsWith", 1): return .bool(s.unicodeScalars.starts(with: try str(0).unicodeScalars))
        case ("endsWith", 1): return .bool(s.unicodeScalars.reversed().starts(with: try str(0).unicodeScalars.reversed()))
        case ("matches", 1): return .bool(try regex(try str(0)).firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil)
        case ("find", 1):
            let m = try regex(try str(0)).firstMatch(in: s, range: NSRange(s.startIndex..., in: s))
            return .string(m.flatMap { Range($0.range, in: s) }.map { String(s[$0]) } ?? "")
        case ("findAll", 1), ("findAll", 2):
            let limit = args.count == 2 ? try int(1) : -1
            let found = try regex(try str(0)).matches(in: s, range: NSRange(s.startIndex..., in: s))
                .compactMap { Range($0.range, in: s).map { CELValue.string(String(s[$0])) } }
            return .list(limit < 0 ? found : Array(found.prefix(Int(limit))))
        case ("lowerAscii", 0):
            return .string(String(String.UnicodeScalarView(scalars.map { $0.isASCII ? Unicode.Scalar(UInt8(ascii: $0).lowercasedASCII) : $0 })))
        case ("upperAscii", 0):
            return .string(String(String.UnicodeScalarView(scalars.map { $0.isASCII ? Unicode.Scalar(UInt8(ascii: $0).uppercasedASCII) : $0 })))
        case ("trim", 0):
            var slice = scalars[...]
            while let f = slice.first, f.properties.isWhitespace { slice = slice.dropFirst() }
            while let l = slice.last, l.properties.isWhitespace { slice = slice.dropLast() }
            return .string(String(String.UnicodeScalarView(slice)))
        case ("charAt", 1):
            let i = try int(0)
            guard i >= 0, i <= scalars.count else { throw CELError.eval("index out of range: \(i)") }
            return .string(i == scalars.count ? "" : String(scalars[Int(i)]))
        case ("split", 1), ("split", 2):
            return .list(split(scalars, Array(try str(0).unicodeScalars), limit: args.count == 2 ? try int(1) : -1)
                .map { .string(String(String.UnicodeScalarView($0))) })
        case ("indexOf", 1), ("indexOf", 2):
            let sub = Array(try str(0).unicodeScalars)
            let from = args.count == 2 ? try int(1) : 0
            guard from >= 0, from <= scalars.count else { throw CELError.eval("index out of range: \(from)") }
            guard !sub.isEmpty else { return .int(from) }
            var i = Int(from)
            while i + sub.count <= scalars.count {
                if Array(scalars[i..<(i + sub.count)]) == sub { return .int(Int64(i)) }
                i += 1
            }
            return .int(-1)
        case ("lastIndexOf", 1), ("lastIndexOf", 2):
            let sub = Array(try str(0).unicodeScalars)
            let from = args.count == 2 ? try int(1) : Int64(scalars.count)
            guard from >= 0, from <= scalars.count else { throw CELError.eval("index out of range: \(from)") }
            guard !sub.isEmpty else { return .int(from) }
            var i = min(Int(from), scalars.count - sub.count)
            while i >= 0 {
                if Array(scalars[i..<(i + sub.count)]) == sub { return .int(Int64(i)) }
                i -= 1
            }
            return .int(-1)
        case ("replace", 2), ("replace", 3):
            let old = try str(0), new = try str(1)
            let limit = args.count == 3 ? try int(2) : -1
            return .string(replace(s, old, new, limit: limit))
        case ("substring", 1), ("substring", 2):
            let start = try int(0)
            let end = args.count == 2 ? try int(1) : Int64(scalars.count)
            guard start >= 0, start <= scalars.count else { throw CELError.eval("index out of range: \(start)") }
            guard end >= 0, end <= scalars.count else { throw CELError.eval("index out of range: \(end)") }
            guard start <= end else { throw CELError.eval("invalid substring range. start: \(start), end: \(end)") }
            return .string(String(String.UnicodeScalarView(scalars[Int(start)..<Int(end)])))
        default:
            throw fail()
        }
    }

    /// RE2 patterns through NSRegularExpression (the common subset behaves the same).
    static func regex(_ pattern: String) throws(CELError) -> NSRegularExpression {
        do { return try NSRegularExpression(pattern: pattern) } catch {
            throw CELError.eval("invalid regular expression: \(pattern)")
        }
    }

    private static func split(_ s: [Unicode.Scalar], _ sep: [Unicode.Scalar], limit: Int64) -> [[Unicode.Scalar]] {
        if limit == 0 { return [] }
        if sep.isEmpty {
            var parts = s.map { [$0] }
            if limit > 0, parts.count > limit {
                let head = Array(parts.prefix(Int(limit) - 1))
                parts = head + [Array(s.dropFirst(Int(limit) - 1))]
            }
            return parts
        }
        var parts: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var i = 0
        while i < s.count {
            if limit > 0, parts.count == limit - 1 { break }
            if i + sep.count <= s.count, Array(s[i..<(i + sep.count)]) == sep {
                parts.append(current)
                current = []
                i += sep.count
            } else {
                current.append(s[i])
                i += 1
            }
        }
        current += s[i...]
        parts.append(current)
        return parts
    }

    private static func replace(_ s: String, _ old: String, _ new: String, limit: Int64) -> String {
        if limit == 0 { return s }
        if old.isEmpty {
            // As Go's strings.Replace: the replacement goes before each code point and at the end.
            var out = "", n: Int64 = 0
            for c in s.unicodeScalars {
                if limit < 0 || n < limit { out += new; n += 1 }
                out.unicodeScalars.append(c)
            }
            if limit < 0 || n < limit { out += new }
            return out
        }
        var out = "", rest = Substring(s), n: Int64 = 0
        while limit < 0 || n < limit, let r = rest.range(of: old) {
            out += rest[..<r.lowerBound] + new
            rest = rest[r.upperBound...]
            n += 1
        }
        return out + rest
    }
}

private extension UInt8 {
    init(ascii scalar: Unicode.Scalar) { self = UInt8(truncatingIfNeeded: scalar.value) }
    var lowercasedASCII: UInt8 { (65...90).contains(self) ? self + 32 : self }
    var uppercasedASCII: UInt8 { (97...122).contains(self) ? self - 32 : self }
}
