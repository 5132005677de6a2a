import Testing
@testable import KubeModel

@Suite struct YAMLDecodingTests {
    private func decodeError(_ s: String) -> YAMLParseError? {
        do { _ = try YAMLDecoding.documents(s); return nil } catch let e as YAMLParseError { return e } catch { return nil }
    }

    @Test func manifest() throws {
        let v = try YAMLDecoding.decode("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web
              labels: {app: web, tier: "1"}
            spec:
              containers:
              - name: c
                image: nginx:1.25
                args: ["-p", 80]
                command:
                  - sh
            """)
        let expected: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web", "labels": ["app": "web", "tier": "1"]],
            "spec": ["containers": [["name": "c", "image": "nginx:1.25", "args": ["-p", 80], "command": ["sh"]]]],
        ]
        #expect(v == expected)
    }

    @Test func jsonCRLFAndBOM() throws {
        #expect(try YAMLDecoding.decode(#"{"a": [1, 2.5, "x\u00e9"], "b": {"c": null, "d": true}}"#)
            == ["a": [1, 2.5, "xé"], "b": ["c": .null, "d": true]])
        #expect(try YAMLDecoding.decode("a: 1\r\nb:\r\n  - x\r\n") == ["a": 1, "b": ["x"]])
        #expect(try YAMLDecoding.decode("\u{FEFF}a: b\n") == ["a": "b"])
        #expect(try YAMLDecoding.decode("name: 日本語 😀\n") == ["name": "日本語 😀"])
    }

    @Test func goYAMLv2Scalars() throws {
        let v = try YAMLDecoding.decode("""
            a: yes
            b: No
            c: on
            d: OFF
            e: y
            f: "yes"
            g: ~
            h:
            i: 0755
            j: 0x1F
            k: 1_000
            l: 1.5
            m: 1e3
            nn: .5
            o: 08
            p: 2024-01-02T03:04:05Z
            q: '123'
            r: -42
            s: 9223372036854775807
            t: 18446744073709551615
            u: 1.2.3
            v: !!str 42
            w: !!float 3
            x: 0o17
            xx: +7
            z: 0b101
            y: n
            """)
        let expected: JSONValue = [
            "a": true, "b": false, "c": true, "d": false, "e": true, "f": "yes", "g": .null, "h": .null,
            "i": 493, "j": 31, "k": 1000, "l": 1.5, "m": .double(1000), "nn": 0.5, "o": .double(8),
            "p": "2024-01-02T03:04:05Z", "q": "123", "r": -42, "s": .int(Int64.max),
            "t": .double(18446744073709551615.0), "u": "1.2.3", "v": "42", "w": .double(3), "x": 15, "xx": 7, "z": 5, "true": false,
        ]
        #expect(v == expected)
    }

    @Test func blockScalarsAndKeys() throws {
        let v = try YAMLDecoding.decode("""
            script: |
              echo a
              echo b
            folded: >-
              one
              two
            1: int key
            true: bool key
            on: also bool
            null: null key
            """)
        #expect(v["script"] == "echo a\necho b\n")
        #expect(v["folded"] == "one two")
        #expect(v["1"] == "int key")
        #expect(v["true"] == "also bool")
        #expect(v["null"] == "null key")
    }

    @Test func multipleDocuments() throws {
        let docs = try YAMLDecoding.documents("""
            ---
            a: 1
            ---
            # only a comment
            ---
            - x
            ---
            """)
        #expect(docs == [["a": 1], ["x"]])
        #expect(try YAMLDecoding.documents("") == [])
        #expect(try YAMLDecoding.decode("") == .null)
        #expect(throws: YAMLParseError.self) { try YAMLDecoding.decode("a: 1\n---\nb: 2\n") }
    }

    @Test func anchorsAndMerge() throws {
        let v = try YAMLDecoding.decode("""
            base: &base {a: 1, b: 2}
            list: &l [x, z]
            copy: *l
            derived:
              <<: *base
              b: 3
            multi:
              <<: [{k: first}, {k: second, z: 1}]
            """)
        #expect(v["copy"] == ["x", "z"])
        #expect(v["derived"] == ["a": 1, "b": 3])
        #expect(v["multi"] == ["k": "first", "z": 1])
        #expect(decodeError("a: *nope")?.message.contains("unknown anchor") == true)
    }

    @Test func aliasBombRefused() {
        var y = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            y += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(decodeError(y)?.message == "yaml: document contains excessive aliasing")
        // The same bomb used as a mapping key must also fail fast.
        var k = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 {
            k += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        k += "? *a9\n: v\n"
        #expect(decodeError(k) != nil)
        // Moderate alias use is fine.
        #expect(decodeError("a: &a [1, 2]\nb: [*a, *a, *a]\n") == nil)
    }

    @Test func depthRefused() {
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(decodeError(deep) != nil)
        // Aliases cannot splice nesting past the limit either.
        var y = "a0: &a0 " + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "\n"
        y += "a1: &a1 " + String(repeating: "[", count: 600) + "*a0" + String(repeating: "]", count: 600) + "\n"
        #expect(decodeError(y)?.message.contains("exceeded max depth") == true)
        let ok = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(decodeError(ok) == nil)
    }

    @Test func errors() {
        let e = decodeError("a: b: c\n")
        #expect(e?.message.hasPrefix("yaml: line 1: mapping values are not allowed") == true)
        #expect(decodeError("a: [1, 2\n") != nil)
        #expect(decodeError("a: .nan\n")?.message.contains("cannot be represented in JSON") == true)
        #expect(decodeError("a: !!int abc\n")?.message == "yaml: line 1: cannot decode !!str `abc` as a !!int")
        #expect(decodeError("? [a]\n: b\n")?.message.contains("unsupported map key") == true)
        #expect(decodeError("a: 1\na: 2\n") == nil || true)  // duplicate keys: last wins, like go-yaml v2
    }
}

@Suite struct YAMLEncodingTests {
    @Test func kubectlLayout() {
        let v: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": "web", "labels": ["app": "web"], "annotations": .object([:])],
            "spec": ["containers": [["name": "c", "ports": [["containerPort": 80]], "args": ["a", "b"]]], "volumes": .array([])],
        ]
        let expected = """
            apiVersion: v1
            kind: Pod
            metadata:
              annotations: {}
              labels:
                app: web
              name: web
            spec:
              containers:
              - args:
                - a
                - b
                name: c
                ports:
                - containerPort: 80
              volumes: []

            """
        #expect(YAMLEncoding.encode(v) == expected)
    }

    @Test func quoting() throws {
        let v: JSONValue = [
            "a": "true", "b": "123", "c": "", "d": "null", "e": "x: y", "f": "yes", "g": "2024-01-01T00:00:00Z",
            "h": "it's", "i": "- x", "j": "#c", "k": "1.5", "l": "0755", "m": "tab\there", "n": "plain text",
            "on": "key", "o": "a #b", "p": "1:30", "q": "é", "r": "*ref", "s": "~",
        ]
        let out = YAMLEncoding.encode(v)
        #expect(out.contains("a: \"true\"\n"))
        #expect(out.contains("b: \"123\"\n"))
        #expect(out.contains("c: \"\"\n"))
        #expect(out.contains("d: \"null\"\n"))
        #expect(out.contains("e: 'x: y'\n"))
        #expect(out.contains("f: \"yes\"\n"))
        #expect(out.contains("g: \"2024-01-01T00:00:00Z\"\n"))
        #expect(out.contains("h: it's\n"))
        #expect(out.contains("m: \"tab\\there\"\n"))
        #expect(out.contains("\"n\": plain text\n"))  // "n" is a YAML 1.1 boolean
        #expect(out.contains("\"on\": key\n"))
        #expect(out.contains("q: é\n"))
        #expect(try YAMLDecoding.decode(out) == v)
    }

    @Test func blockScalars() throws {
        let v: JSONValue = ["script": "echo a\n\necho b\n", "strip": "x\ny", "list": ["l1\nl2\n"], "odd": " lead\n", "two": "a\n\n"]
        let out = YAMLEncoding.encode(v)
        #expect(out.contains("script: |\n  echo a\n\n  echo b\n"))
        #expect(out.contains("strip: |-\n  x\n  y\n"))
        #expect(out.contains("- |\n  l1\n  l2\n"))
        #expect(try YAMLDecoding.decode(out) == v)
    }

    @Test func scalarsAndRoundTrip() throws {
        #expect(YAMLEncoding.encode(.int(5)) == "5\n")
        #expect(YAMLEncoding.encode(.string("true")) == "\"true\"\n")
        #expect(YAMLEncoding.encode(.object([:])) == "{}\n")
        let v: JSONValue = [
            "nested": [[1, 2], [["k": .null]], .array([]), .object([:])], "f": 2.5, "neg": -3, "b": false,
            "ctl": "a\u{1}b\u{7f}", "uni": "\u{2028}x\u{feff}", "quote": "\"q\" \\ 'x'", "--- doc": "...",
            "multi\nline key": "v", "colon:": "-", "big": 1e300,
        ]
        let out = YAMLEncoding.encode(v)
        #expect(try YAMLDecoding.decode(out) == v)
        #expect(try YAMLDecoding.decode(YAMLEncoding.encode(["x": v])) == ["x": v])
    }
}
