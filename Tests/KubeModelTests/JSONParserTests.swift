import Testing
@testable import KubeModel

@Suite struct JSONParserTests {
    private func parse(_ s: String) throws(JSONParseError) -> JSONValue { try JSONParser.parse(s) }

    private func error(_ s: String, maxDepth: Int = 1000) -> JSONParseError? {
        do { _ = try JSONParser.parse(Array(s.utf8), maxDepth: maxDepth); return nil } catch { return error }
    }

    @Test func scalars() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-12") == .int(-12))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("-2e3") == .double(-2000))
        #expect(try parse("1E-2") == .double(0.01))
        #expect(try parse("\"hi\"") == .string("hi"))
    }

    @Test func int64Bounds() throws {
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("-9223372036854775808") == .int(Int64.min))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try parse("-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
    }

    @Test func containers() throws {
        let v = try parse(#" { "a" : [1, 2, {"b": null}], "c": {}, "d": [] } "#)
        #expect(v == ["a": [1, 2, ["b": .null]], "c": .object([:]), "d": .array([])])
    }

    @Test func duplicateKeysLastWins() throws {
        #expect(try parse(#"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test func escapes() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d""#) == .string("é中"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""\uD83D\uDE00x""#) == .string("😀x"))
        // Lone surrogates become U+FFFD as in Go.
        #expect(try parse(#""\ud83d""#) == .string("\u{FFFD}"))
        #expect(try parse(#""\ude00a""#) == .string("\u{FFFD}a"))
        #expect(try parse(#""\ud83d\u0041""#) == .string("\u{FFFD}A"))
        #expect(try parse("\"héllo 中\"") == .string("héllo 中"))
    }

    @Test func goStyleErrors() {
        #expect(error("x")?.message == "invalid character 'x' looking for beginning of value")
        #expect(error("")?.message == "unexpected end of JSON input")
        #expect(error("[1,2")?.message == "unexpected end of JSON input")
        #expect(error("{\"a\" 1}")?.message == "invalid character '1' after object key")
        #expect(error("{\"a\":1 \"b\"}")?.message == "invalid character '\"' after object key:value pair")
        #expect(error("{1:2}")?.message == "invalid character '1' looking for beginning of object key string")
        #expect(error("[1 2]")?.message == "invalid character '2' after array element")
        #expect(error("1 2")?.message == "invalid character '2' after top-level value")
        #expect(error("tru")?.message == "unexpected end of JSON input")
        #expect(error("trux")?.message == "invalid character 'x' in literal true (expecting 'e')")
        #expect(error("\"a\\x\"")?.message == "invalid character 'x' in string escape code")
        #expect(error("\"\\u12g4\"")?.message == "invalid character 'g' in \\u hexadecimal character escape")
        #expect(error("1.")?.message == "unexpected end of JSON input")
        #expect(error("1.e")?.message == "invalid character 'e' after decimal point in numeric literal")
        #expect(error("1e+")?.message == "unexpected end of JSON input")
        #expect(error("1ex")?.message == "invalid character 'x' in exponent of numeric literal")
        #expect(error("-x")?.message == "invalid character 'x' in numeric literal")
        #expect(error("{\"a\":1,}")?.message == "invalid character '}' looking for beginning of object key string")
        #expect(error("[1,]")?.message == "invalid character ']' looking for beginning of value")
    }

    @Test func strictness() {
        #expect(error("01")?.message == "invalid character '1' after top-level value")
        #expect(error("[01]")?.message == "invalid character '1' after array element")
        #expect(error("NaN") != nil)
        #expect(error("Infinity") != nil)
        #expect(error("+1") != nil)
        #expect(error(".5") != nil)
        #expect(error("1e999")?.message == "number 1e999 is out of range")
        #expect(error("\"a\nb\"")?.message == "invalid character '\\n' in string literal")
        #expect(error("\"a\u{1}b\"")?.message == "invalid character '\\x01' in string literal")
        #expect(error("'a'")?.message == "invalid character '\\'' looking for beginning of value")
        #expect(error("{} x")?.offset == 3)
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)
        #expect(error(ok) == nil)
        let deep = String(repeating: "[", count: 1001) + String(repeating: "]", count: 1001)
        #expect(error(deep)?.message == "exceeded max depth")
        #expect(error("{\"a\":{\"b\":1}}", maxDepth: 1)?.message == "exceeded max depth")
        // Very deep hostile input fails cleanly rather than overflowing the stack.
        let hostile = String(repeating: "{\"a\":", count: 200_000)
        #expect(error(hostile)?.message == "exceeded max depth")
        let within = String(repeating: "{\"a\":", count: 999) + "[]" + String(repeating: "}", count: 999)
        #expect(error(within) == nil)
    }

    @Test func nonContiguousCollection() throws {
        let bytes = Array("{\"k\":[true]}".utf8)
        #expect(try JSONParser.parse(bytes.lazy.map { $0 }) == ["k": [true]])
        #expect(try JSONParser.parse(bytes[...]) == ["k": [true]])
    }

    @Test func invalidUTF8IsReplaced() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(try JSONParser.parse(bytes) == .string("a\u{FFFD}b"))
    }
}
