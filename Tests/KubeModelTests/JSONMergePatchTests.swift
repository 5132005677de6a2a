import Testing
@testable import KubeModel

@Suite struct JSONMergePatchTests {
    /// The examples of RFC 7386 appendix A.
    @Test(arguments: [
        (["a": "b"], ["a": "c"], ["a": "c"]),
        (["a": "b"], ["b": "c"], ["a": "b", "b": "c"]),
        (["a": "b"], ["a": nil], [:]),
        (["a": "b", "b": "c"], ["a": nil], ["b": "c"]),
        (["a": ["b"]], ["a": "c"], ["a": "c"]),
        (["a": "c"], ["a": ["b"]], ["a": ["b"]]),
        (["a": ["b": "c"]], ["a": ["b": "d", "c": nil]], ["a": ["b": "d"]]),
        (["a": [["b": "c"]]], ["a": [1]], ["a": [1]]),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        (["a": "b"], ["c"], ["c"]),
        (["a": "foo"], nil, nil),
        (["a": "foo"], "bar", "bar"),
        (["e": nil], ["a": 1], ["e": nil, "a": 1]),
        ([1, 2], ["a": "b", "c": nil], ["a": "b"]),
        ([:], ["a": ["bb": ["ccc": nil]]], ["a": ["bb": [:]]]),
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
            "metadata": ["labels": ["b": nil, "c": "3"]],
            "spec": ["replicas": 3, "list": [1, 2, 3], "gone": nil],
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
