/// `JSONValue` → YAML in the layout `kubectl get -o yaml` prints (go-yaml v2 style): keys
/// sorted, two-space indent, sequences not indented under their key, `{}`/`[]` for empty
/// collections, and strings quoted whenever a plain scalar would read back as something else.
public enum YAMLEncoding {
    /// One YAML document, ending in a newline.
    public static func encode(_ value: JSONValue) -> String {
        var out = ""
        switch value {
        case .object(let o) where !o.isEmpty: mapping(o, indent: 0, inline: false, &out)
        case .array(let a) where !a.isEmpty: sequence(a, indent: 0, inline: false, &out)
        default:
            out += scalar(value, indent: 0)
            out += "\n"
        }
        return out
    }

    private static func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

    /// `inline`: the first line continues one already started (after `- `).
    private static func mapping(_ o: [String: JSONValue], indent: Int, inline: Bool, _ out: inout String) {
        var first = inline
        for key in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let v = o[key] else { continue }
            if !first { out += spaces(indent) }
            first = false
            let written = string(key, indent: indent + 2, allowBlock: false)
            if written.utf8.count > 128 {
                // Too long for an implicit key (YAML allows at most 1024 characters; go-yaml
                // makes keys over 128 explicit): `? key` then `: value` on its own line.
                out += "? " + written + "\n" + spaces(indent)
            } else {
                out += written
            }
            out += ":"
            switch v {
            case .object(let c) where !c.isEmpty:
                out += "\n"
                mapping(c, indent: indent + 2, inline: false, &out)
            case .array(let c) where !c.isEmpty:
                out += "\n"
                sequence(c, indent: indent, inline: false, &out)
            default:
                out += " "
                out += scalar(v, indent: indent + 2)
                out += "\n"
            }
        }
    }

    private static func sequence(_ a: [JSONValue], indent: Int, inline: Bool, _ out: inout String) {
        var first = inline
        for v in a {
            if !first { out += spaces(indent) }
            first = false
            out += "- "
            switch v {
            case .object(let c) where !c.isEmpty: mapping(c, indent: indent + 2, inline: true, &out)
            case .array(let c) where !c.isEmpty: sequence(c, indent: indent + 2, inline: true, &out)
            default:
                out += scalar(v, indent: indent + 2)
                out += "\n"
            }
        }
    }

    /// A scalar or empty collection; `indent` is where block-scalar content lines go.
    private static func scalar(_ v: JSONValue, indent: Int) -> String {
        switch v {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int, .double: return JSONWriter.string(v)
        case .string(let s): return string(s, indent: indent, allowBlock: true)
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    private static func string(_ s: String, indent: Int, allowBlock: Bool) -> String {
        if needsDoubleQuotes(s) {
            if allowBlock, let block = literalBlock(s, indent: indent) { return block }
            return doubleQuoted(s)
        }
        if isPlainSafe(s) { return s }
        return "'" + s.replacingOccurrences("'", "''") + "'"
    }

    /// Strings that must be double-quoted: they would resolve to a non-string, or hold
    /// characters only escapes can carry.
    private static func needsDoubleQuotes(_ s: String) -> Bool {
        if ScalarResolver.needsQuoting(s) || looksLikeTimestampOrSexagesimal(s) || s == "<<" { return true }
        return s.unicodeScalars.contains { !isPrintable($0) }
    }

    private static func isPrintable(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x20...0x7E: return true
        case 0xA0...0xD7FF: return u.value != 0x2028 && u.value != 0x2029
        case 0xE000...0xFFFD: return u.value != 0xFEFF
        case 0x10000...0x10FFFF: return true
        default: return false  // C0/C1 controls, tab, newline, DEL
        }
    }

    /// go-yaml v2 quotes strings that YAML 1.1 would read as timestamps or base-60 numbers
    /// (e.g. `creationTimestamp: "2024-01-01T00:00:00Z"`, `"1:30"`).
    private static func looksLikeTimestampOrSexagesimal(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digit(_ i: Int) -> Bool { i < b.count && b[i] >= 48 && b[i] <= 57 }
        if b.count >= 6, digit(0), digit(1), digit(2), digit(3), b[4] == UInt8(ascii: "-"), digit(5) { return true }
        guard let f = b.first, f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || digit(0) else { return false }
        return b.contains(UInt8(ascii: ":")) && b.allSatisfy {
            ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-")
        }
    }

    /// Conservative test for a block-context plain scalar that reads back as the same string.
    private static func isPlainSafe(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard let first = b.first, let last = b.last else { return false }
        if first == 0x20 || last == 0x20 || last == UInt8(ascii: ":") { return false }
        if s.hasPrefix("---") || s.hasPrefix("...") { return false }
        switch first {
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            // Indicator only when followed by a space (or alone).
            if b.count == 1 || b[1] == 0x20 { return false }
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"),
            UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "@"),
            UInt8(ascii: "`"):
            return false
        default: break
        }
        for i in b.indices.dropFirst() {
            if b[i] == UInt8(ascii: "#") && b[i - 1] == 0x20 { return false }
            if b[i - 1] == UInt8(ascii: ":") && b[i] == 0x20 { return false }
        }
        return true
    }

    /// `|` / `|-` literal block for multi-line text, when it can be represented exactly
    /// without indentation indicators; nil otherwise.
    private static func literalBlock(_ s: String, indent: Int) -> String? {
        guard s.contains("\n"), !s.hasSuffix("\n\n"), !s.hasPrefix(" "), !s.hasPrefix("\n") else { return nil }
        for u in s.unicodeScalars where u != "\n" && !isPrintable(u) { return nil }
        var body = Substring(s)
        let keep = body.hasSuffix("\n")
        if keep { body = body.dropLast() }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.contains(where: { $0.hasSuffix(" ") }) { return nil }
        var out = keep ? "|" : "|-"
        let pad = spaces(indent)
        for line in lines {
            out += "\n"
            if !line.isEmpty { out += pad + line }
        }
        return out
    }

    private static func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if isPrintable(u) {
                    out.unicodeScalars.append(u)
                } else if u.value <= 0xFF {
                    out += "\\x" + hex(u.value, 2)
                } else {
                    out += "\\u" + hex(u.value, 4)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ v: UInt32, _ width: Int) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - h.count)) + h
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
