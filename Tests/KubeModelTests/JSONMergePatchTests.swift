import Testing
@testable import KubeModel

@Suite struct JSONMergePatchTests {
    /// The examples of RFC 7386 appendix A.
    @Test(arguments: [
        (["a": "b"], ["a": "c"], ["a": "c"]),
        (["a": "b"], ["b": "c"], ["a": "b", "b": "c"]),
        (["a": "b"], ["a": .null], [:]),
        (["a": "b", "b": "c"], ["a": .null], ["b": "c"]),
        (["a": ["b"]], ["a": "c"], ["a": "c"]),
        (["a": "c"], ["a": ["b"]], ["a": ["b"]]),
        (["a": ["b": "c"]], ["a": ["b": "d", "c": .null]], ["a": ["b": "d"]]),
        (["a": [["b": "c"]]], ["a": [1]], ["a": [1]]),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        (["a": "b"], ["c"], ["c"]),
        (["a": "foo"], .null, .null),
        (["a": "foo"], "bar", "bar"),
        (["e": .null], ["a": 1], ["e": .null, "a": 1]),
        ([1, 2], ["a": "b", "c": .null], ["a": "b"]),
        ([:], ["a": ["bb": ["ccc": .null]]], ["a": ["bb": [:]]]),
    ] as [(JSONValue, JSONValue, JSONValue)])
    func rfcExamples(target: JSONValue, patch: JSONValue, result: JSONValue) {
        #expect(JSONMergePatch.apply(patch, to: target) == result)
    }

    @Test func createRoundTrips() {
        let original: JSONValue = [
            "metadata": ["name": "x", "labels": ["a": "1", "b": "2"]],
            "spec": ["replicas": 1, "list": [1, 2], "gone": true],
        ]
        let modified: JSONValue = [
            "metadata": ["name": "x", "labels": ["a": "1", "c": "3"]],
            "spec": ["replicas": 3, "list": [1, 2, 3]],
            "status": ["ready": true],
        ]
        let patch = JSONMergePatch.create(from: original, to: modified)
        #expect(patch == [
            "metadata": ["labels": ["b": .null, "c": "3"]],
            "spec": ["replicas": 3, "list": [1, 2, 3], "gone": .null],
            "status": ["ready": true],
        ])
        #expect(JSONMergePatch.apply(patch, to: original) == modified)
    }

    @Test func createEdgeCases() {
        #expect(JSONMergePatch.create(from: ["a": 1], to: ["a": 1]) == .object([:]))
        #expect(JSONMergePatch.create(from: ["a": 1], to: ["a": 1.0]) == .object([:]))
        #expect(JSONMergePatch.create(from: ["a": 1], to: [1]) == [1])
        #expect(JSONMergePatch.create(from: "x", to: ["a": 1]) == ["a": 1])
        #expect(JSONMergePatch.create(from: ["a": ["b": 1]], to: ["a": 2]) == ["a": 2])
    }
}
