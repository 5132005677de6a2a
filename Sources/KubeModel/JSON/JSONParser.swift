/// A JSON syntax error, worded like Go's `encoding/json` so clients see familiar messages.
public struct JSONParseError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Human-readable reason, e.g. `invalid character 'x' looking for beginning of value`.
    public var message: String
    /// Byte offset in the input where the problem was detected.
    public var offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}

/// Strict RFC 8259 parser over UTF-8 bytes.
///
/// It is iterative (explicit container stacks), so hostile nesting can never overflow the
/// thread stack. `maxDepth` still matters: `JSONValue` itself is destroyed, compared and written
/// recursively, so keep it modest (Go's limit is 10000; 1000 is plenty for Kubernetes objects).
public enum JSONParser {
    /// Parses one JSON document; trailing non-whitespace is an error.
    public static func parse<C: Collection>(_ bytes: C, maxDepth: Int = 1000) throws(JSONParseError) -> JSONValue
    where C.Element == UInt8 {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buf in
            var p = Parser(buf, maxDepth: maxDepth)
            do throws(JSONParseError) { return .success(try p.parseDocument()) } catch { return .failure(error) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try parse(copy, maxDepth: maxDepth)
    }

    /// Parses one document and also returns the keys that appeared twice in one object (the
    /// last value wins); the API server refuses those under strict field validation.
    public static func parseReportingDuplicates<C: Collection>(_ bytes: C, maxDepth: Int = 1000) throws(JSONParseError) -> (JSONValue, [String])
    where C.Element == UInt8 {
        let copy = Array(bytes)
        let result: Result<(JSONValue, [String]), JSONParseError> = copy.withUnsafeBufferPointer { buf in
            var p = Parser(buf, maxDepth: maxDepth)
            p.trackDuplicates = true
            do throws(JSONParseError) { return .success((try p.parseDocument(), p.duplicates)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses a JSON document held in a `String`.
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var s = string
        let r: Result<JSONValue, JSONParseError> = s.withUTF8 { buf in
            var p = Parser(buf, maxDepth: 1000)
            do throws(JSONParseError) { return .success(try p.parseDocument()) } catch { return .failure(error) }
        }
        return try r.get()
    }
}

private struct Parser {
    let b: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.maxDepth = maxDepth
    }

    // Container stacks kept apart (not an enum array) so appends mutate in place.
    var isObject: [Bool] = []
    var arrays: [[JSONValue]] = []
    var objects: [[String: JSONValue]] = []
    var keys: [String] = []
    var trackDuplicates = false
    var duplicates: [String] = []

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        var value: JSONValue
        parseValue: while true {
            skipWS()
            guard i < b.count else { throw eof() }
            let c = b[i]
            switch c {
            case UInt8(ascii: "{"):
                try checkDepth()
                i += 1
                skipWS()
                if i < b.count, b[i] == UInt8(ascii: "}") {
                    i += 1
                    value = .object([:])
                } else {
                    push(object: true)
                    keys.append(try parseKey(context: "looking for beginning of object key string"))
                    continue parseValue
                }
            case UInt8(ascii: "["):
                try checkDepth()
                i += 1
                skipWS()
                if i < b.count, b[i] == UInt8(ascii: "]") {
                    i += 1
                    value = .array([])
                } else {
                    push(object: false)
                    continue parseValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try literal("true"); value = .bool(true)
            case UInt8(ascii: "f"):
                try literal("false"); value = .bool(false)
            case UInt8(ascii: "n"):
                try literal("null"); value = .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            default:
                throw invalid(c, "looking for beginning of value")
            }

            // A value is complete: fold it into enclosing containers until one wants more.
            while let obj = isObject.last {
                skipWS()
                guard i < b.count else { throw eof() }
                let c = b[i]
                if obj {
                    let key = keys.removeLast()
                    if trackDuplicates && objects[objects.count - 1][key] != nil { duplicates.append(key) }
                    objects[objects.count - 1][key] = value  // last duplicate wins
                    if c == UInt8(ascii: ",") {
                        i += 1
                        skipWS()
                        keys.append(try parseKey(context: "looking for beginning of object key string"))
                        continue parseValue
                    } else if c == UInt8(ascii: "}") {
                        i += 1
                        isObject.removeLast()
                        value = .object(objects.removeLast())
                    } else {
                        throw invalid(c, "after object key:value pair")
                    }
                } else {
                    arrays[arrays.count - 1].append(value)
                    if c == UInt8(ascii: ",") {
                        i += 1
                        continue parseValue
                    } else if c == UInt8(ascii: "]") {
                        i += 1
                        isObject.removeLast()
                        value = .array(arrays.removeLast())
                    } else {
                        throw invalid(c, "after array element")
                    }
                }
            }
            skipWS()
            if i < b.count { throw invalid(b[i], "after top-level value") }
            return value
        }
    }

    /// Checked before an opening bracket, so empty containers count toward the depth too.
    func checkDepth() throws(JSONParseError) {
        guard isObject.count < maxDepth else { throw JSONParseError("exceeded max depth", offset: i) }
    }

    mutating func push(object: Bool) {
        isObject.append(object)
        if object { objects.append([:]) } else { arrays.append([]) }
    }

    /// Reads `"key" :` with whitespace already skipped before the key.
    mutating func parseKey(context: String) throws(JSONParseError) -> String {
        guard i < b.count else { throw eof() }
        guard b[i] == UInt8(ascii: "\"") else { throw invalid(b[i], context) }
        let k = try parseString()
        skipWS()
        guard i < b.count else { throw eof() }
        guard b[i] == UInt8(ascii: ":") else { throw invalid(b[i], "after object key") }
        i += 1
        return k
    }

    @inline(__always) mutating func skipWS() {
        while i < b.count {
            let c = b[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for k in 0..<w.count {
            guard i < b.count else { throw eof() }
            if b[i] != w[k] {
                throw invalid(b[i], "in literal \(word) (expecting \(quote(w[k])))")
            }
            i += 1
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = i
        var negative = false
        if b[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
            guard i < b.count else { throw eof() }
            guard isDigit(b[i]) else { throw invalid(b[i], "in numeric literal") }
        }
        // Accumulate negatively so Int64.min fits.
        var acc: Int64 = 0
        var overflow = false
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < b.count, isDigit(b[i]) {
                if !overflow {
                    let (m, o1) = acc.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(Int64(b[i] - 48))
                    if o1 || o2 { overflow = true } else { acc = s }
                }
                i += 1
            }
        }
        var isFloat = false
        if i < b.count, b[i] == UInt8(ascii: ".") {
            isFloat = true
            i += 1
            guard i < b.count else { throw eof() }
            guard isDigit(b[i]) else { throw invalid(b[i], "after decimal point in numeric literal") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            isFloat = true
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count else { throw eof() }
            guard isDigit(b[i]) else { throw invalid(b[i], "in exponent of numeric literal") }
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        // A leading zero ("01") ends the number; the caller then rejects the stray digit the
        // way Go does ("after top-level value" / "after array element").
        if !isFloat && !overflow {
            if negative { return .int(acc) }
            if acc != Int64.min { return .int(-acc) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        guard let d = Double(text), d.isFinite else {
            throw JSONParseError("number \(text) is out of range", offset: start)
        }
        return .double(d)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes, decode the slice directly.
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw invalid(c, "in string literal") }
            i += 1
        }
        guard i < b.count else { throw eof() }
        var out = [UInt8](UnsafeBufferPointer(rebasing: b[start..<i]))
        while i < b.count {
            let c = b[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                i += 1
                guard i < b.count else { throw eof() }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate needs a following low one; otherwise U+FFFD, as Go does.
                        if i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                            let save = i
                            i += 2
                            let low = try hex4()
                            if (0xDC00..<0xE000).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                scalar = 0xFFFD
                                i = save
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    appendUTF8(scalar, to: &out)
                default:
                    throw invalid(e, "in string escape code")
                }
            default:
                if c < 0x20 { throw invalid(c, "in string literal") }
                out.append(c)
                i += 1
            }
        }
        throw eof()
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard i < b.count else { throw eof() }
            let c = b[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - 55
            default: throw invalid(c, "in \\u hexadecimal character escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        switch s {
        case 0..<0x80:
            out.append(UInt8(s))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (s >> 18)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }

    @inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    func eof() -> JSONParseError { JSONParseError("unexpected end of JSON input", offset: b.count) }

    func invalid(_ c: UInt8, _ context: String) -> JSONParseError {
        JSONParseError("invalid character \(quote(c)) \(context)", offset: i)
    }

    /// Quotes a byte as Go's `quoteChar` does: `'x'`, `'\n'`, `'\x01'`.
    func quote(_ c: UInt8) -> String {
        switch c {
        case UInt8(ascii: "'"): return "'\\''"
        case UInt8(ascii: "\""): return "'\"'"
        case 0x0A: return "'\\n'"
        case 0x0D: return "'\\r'"
        case 0x09: return "'\\t'"
        case 0x20..<0x7F: return "'\(Character(Unicode.Scalar(c)))'"
        default:
            let h = String(c, radix: 16)
            return "'\\x\(h.count == 1 ? "0" + h : h)'"
        }
    }
}
