import Testing
@testable import KubeModel

@Suite struct JSONPatchTests {
    private func apply(_ ops: JSONValue, _ doc: JSONValue) throws(JSONPatchError) -> JSONValue {
        try JSONPatch.apply(ops, to: doc)
    }

    private func err(_ ops: JSONValue, _ doc: JSONValue) -> String? {
        do { _ = try JSONPatch.apply(ops, to: doc); return nil } catch { return error.message }
    }

    @Test func add() throws {
        #expect(try apply([["op": "add", "path": "/b", "value": 2]], ["a": 1]) == ["a": 1, "b": 2])
        #expect(try apply([["op": "add", "path": "/a", "value": 2]], ["a": 1]) == ["a": 2])
        #expect(try apply([["op": "add", "path": "/l/1", "value": "x"]], ["l": [1, 2]]) == ["l": [1, "x", 2]])
        #expect(try apply([["op": "add", "path": "/l/-", "value": 3]], ["l": [1, 2]]) == ["l": [1, 2, 3]])
        #expect(try apply([["op": "add", "path": "/l/2", "value": 3]], ["l": [1, 2]]) == ["l": [1, 2, 3]])
        #expect(try apply([["op": "add", "path": "", "value": [1]]], ["a": 1]) == [1])
        #expect(try apply([["op": "add", "path": "/a~1b/c~0d", "value": .null]], ["a/b": [:]]) == ["a/b": ["c~d": .null]])
        #expect(try apply([["op": "add", "path": "/", "value": 1]], [:]) == ["": 1])
    }

    @Test func removeAndReplace() throws {
        let doc: JSONValue = ["a": ["b": 1, "c": 2], "l": ["x", "y", "z"]]
        #expect(try apply([["op": "remove", "path": "/a/b"]], doc) == ["a": ["c": 2], "l": ["x", "y", "z"]])
        #expect(try apply([["op": "remove", "path": "/l/1"]], doc) == ["a": ["b": 1, "c": 2], "l": ["x", "z"]])
        #expect(try apply([["op": "replace", "path": "/a/b", "value": "new"]], doc)[path: ["a", "b"]] == "new")
        #expect(try apply([["op": "replace", "path": "/l/0", "value": 0]], doc)["l"] == [0, "y", "z"])
        #expect(try apply([["op": "replace", "path": "", "value": 5]], doc) == 5)
    }

    @Test func moveCopyTest() throws {
        let doc: JSONValue = ["a": ["b": 1], "l": [1, 2, 3]]
        #expect(try apply([["op": "move", "from": "/a/b", "path": "/c"]], doc) == ["a": .object([:]), "c": 1, "l": [1, 2, 3]])
        #expect(try apply([["op": "move", "from": "/l/0", "path": "/l/-"]], doc)["l"] == [2, 3, 1])
        #expect(try apply([["op": "move", "from": "/a", "path": "/a"]], doc) == doc)
        #expect(try apply([["op": "copy", "from": "/a", "path": "/z"]], doc)["z"] == ["b": 1])
        #expect(try apply([["op": "test", "path": "/a/b", "value": 1.0]], doc) == doc)
        #expect(try apply([["op": "test", "path": "/l", "value": [1, 2, 3]]], doc) == doc)
    }

    @Test func sequenceIsAtomic() throws {
        let ops: JSONValue = [
            ["op": "test", "path": "/v", "value": 1],
            ["op": "replace", "path": "/v", "value": 2],
            ["op": "add", "path": "/w", "value": ["x": [1]]],
            ["op": "add", "path": "/w/x/0", "value": 0],
        ]
        #expect(try apply(ops, ["v": 1]) == ["v": 2, "w": ["x": [0, 1]]])
    }

    @Test func errors() {
        let doc: JSONValue = ["a": ["b": 1], "l": [1]]
        #expect(err([["op": "add", "path": "/x/y", "value": 1]], doc) == "add operation does not apply: doc is missing path: \"/x/y\": missing value")
        #expect(err([["op": "remove", "path": "/x"]], doc) == "Unable to remove nonexistent key: x: missing value")
        #expect(err([["op": "replace", "path": "/x", "value": 1]], doc) == "replace operation does not apply: doc is missing key: /x: missing value")
        #expect(err([["op": "test", "path": "/a/b", "value": 2]], doc) == "testing value /a/b failed: test failed")
        #expect(err([["op": "test", "path": "/nope", "value": .null]], doc) == "testing value /nope failed: test failed")
        #expect(err([["op": "bogus", "path": "/a"]], doc) == "Unexpected kind: bogus")
        #expect(err([["op": "add", "path": "/l/5", "value": 1]], doc) == "Unable to access invalid index: 5: invalid index referenced")
        #expect(err([["op": "add", "path": "/l/01", "value": 1]], doc) == "Unable to access invalid index: 01: invalid index referenced")
        #expect(err([["op": "remove", "path": "/l/-"]], doc) == "Unable to access invalid index: -: invalid index referenced")
        #expect(err([["op": "add", "path": "a", "value": 1]], doc) == "invalid JSON pointer \"a\": must start with '/'")
        #expect(err([["op": "add", "path": "/z"]], doc) == "add operation does not apply: missing value")
        #expect(err([["op": "move", "from": "/a", "path": "/a/b/c"]], doc) == "move operation does not apply: from /a is a prefix of path /a/b/c")
        #expect(err([["op": "copy", "from": "/q", "path": "/r"]], doc) == "copy operation does not apply: doc is missing from path: /q: missing value")
        #expect(err([["op": "add", "path": "/a/b/c", "value": 1]], doc) == "add operation does not apply: doc is missing path: \"/a/b/c\": missing value")
        #expect(err(["op": "add"], doc) != nil)
        #expect(err(["not an op"], doc) != nil)
        #expect(err([["path": "/a"]], doc) == "Unexpected kind: ")
    }

    @Test func limits() {
        let many = JSONValue.array(Array(repeating: ["op": "test", "path": "", "value": .null], count: 10_001))
        #expect(err(many, .null) == "The allowed maximum operations in a JSON patch is 10000, got 10001")
        // Each copy doubles the list; the node budget stops it long before it explodes.
        var ops: [JSONValue] = []
        for _ in 0..<200 { ops.append(["op": "copy", "from": "/x", "path": "/x/-"]) }
        #expect(err(.array(ops), ["x": [1, 2, 3]])?.hasPrefix("Unable to complete the copy") == true)
    }
}
