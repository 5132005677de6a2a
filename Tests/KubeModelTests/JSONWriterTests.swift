import Testing
@testable import KubeModel

@Suite struct JSONWriterTests {
    @Test func sortedCompactOutput() {
        let v: JSONValue = ["b": 1, "a": [true, .null, "x"], "c": ["z": 1.5, "y": .object([:])], "B": .array([])]
        #expect(JSONWriter.string(v) == #"{"B":[],"a":[true,null,"x"],"b":1,"c":{"y":{},"z":1.5}}"#)
    }

    @Test func keysSortByBytes() {
        let v: JSONValue = ["é": 1, "z": 2, "Z": 3, "a": 4]
        #expect(JSONWriter.string(v) == #"{"Z":3,"a":4,"z":2,"é":1}"#)
    }

    @Test func goEscapes() {
        #expect(JSONWriter.string("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONWriter.string("\n\r\t") == #""\n\r\t""#)
        #expect(JSONWriter.string("\u{1}\u{1f}\u{8}") == #""\u0001\u001f\u0008""#)
        #expect(JSONWriter.string("<a>&b") == #""\u003ca\u003e\u0026b""#)
        #expect(JSONWriter.string("\u{2028}x\u{2029}") == #""\u2028x\u2029""#)
        #expect(JSONWriter.string("é中😀/") == "\"é中😀/\"")
    }

    @Test func numbers() {
        #expect(JSONWriter.string(.int(Int64.min)) == "-9223372036854775808")
        #expect(JSONWriter.string(.int(Int64.max)) == "9223372036854775807")
        #expect(JSONWriter.string(.int(0)) == "0")
        #expect(JSONWriter.string(.double(3.0)) == "3")
        #expect(JSONWriter.string(.double(-1e6)) == "-1000000")
        #expect(JSONWriter.string(.double(0.1)) == "0.1")
        #expect(JSONWriter.string(.double(.nan)) == "null")
    }

    @Test func doublesRoundTrip() throws {
        for d in [0.1, 1.0 / 3.0, 1e-7, 1.5e300, -2.5e-300, 1e20, 1e21, 9.2e18, 123456.789, Double.leastNonzeroMagnitude] {
            let text = JSONWriter.string(.double(d))
            let back = try JSONParser.parse(text)
            #expect(back.doubleValue == d, "\(d) -> \(text)")
        }
    }

    @Test func pretty() {
        let v: JSONValue = ["b": [1, 2], "a": ["c": "d"], "e": .array([])]
        let expected = """
            {
                "a": {
                    "c": "d"
                },
                "b": [
                    1,
                    2
                ],
                "e": []
            }
            """
        #expect(JSONWriter.prettyString(v) == expected)
    }

    @Test func roundTrip() throws {
        let text = #"{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"x\u003cy"},"name":"p"},"spec":{"n":[1,-2,3.25,"\u2028"]}}"#
        let v = try JSONParser.parse(text)
        #expect(JSONWriter.string(v) == text)
        var buf: [UInt8] = Array("prefix:".utf8)
        JSONWriter.write(v, into: &buf)
        #expect(String(decoding: buf, as: UTF8.self) == "prefix:" + text)
        #expect(JSONWriter.bytes(v) == Array(text.utf8))
    }
}
