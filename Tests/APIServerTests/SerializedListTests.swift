import Foundation
import KubeModel
import NIOCore
import Testing

@testable import APIServer

/// A LIST answered from the store's bytes selects and pages exactly as the parsed LIST does,
/// and its body is the same bytes.
@Suite struct SerializedListTests {
    static func pods() async throws -> (Registry, any ResourceStrategy) {
        let (registry, pods) = try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000), plural: "pods")
        for i in 0..<7 {
            let pod: JSONValue = [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string("p\(i)"), "labels": ["tier": .string(i % 2 == 0 ? "even" : "odd")]],
                "spec": ["containers": [["name": "c", "image": "busybox", "command": ["sleep", "3600"]]], "nodeName": .string("n\(i % 3)")],
            ]
            _ = try await registry.create(pods, version: "v1", namespace: "default", body: pod, options: WriteOptions())
        }
        return (registry, pods)
    }

    static func options(label: String? = nil, field: String? = nil, limit: Int? = nil, continueToken: String? = nil) throws -> ListOptions {
        var o = ListOptions()
        o.labelSelector = try label.map { try LabelSelector.parse($0) }
        o.fieldSelector = try field.map { try FieldSelector.parse($0) }
        o.limit = limit
        o.continueToken = try continueToken.map { try ContinueToken.decode($0) }
        return o
    }

    static func names(_ items: [SerializedObject]) throws -> [String] {
        try items.map { try JSONParser.parse($0.bytes).name ?? "" }
    }

    @Test(arguments: [(nil, nil), ("tier=even", nil), (nil, "spec.nodeName=n1"), ("tier=odd", "spec.nodeName!=n0")] as [(String?, String?)])
    func selectorsAndPagesMatchTheParsedList(label: String?, field: String?) async throws {
        let (registry, pods) = try await Self.pods()
        var parsedNames: [String] = []
        var serializedNames: [String] = []
        var parsedToken: String?
        var serializedToken: String?
        repeat {
            let parsed = try await registry.list(pods, version: "v1", namespace: "default",
                                                 options: Self.options(label: label, field: field, limit: 2, continueToken: parsedToken))
            let serialized = try await registry.listSerialized(pods, namespace: "default",
                                                               options: Self.options(label: label, field: field, limit: 2, continueToken: serializedToken))
            parsedNames += parsed.items.compactMap(\.name)
            serializedNames += try Self.names(serialized.items)
            #expect(serialized.resourceVersion == parsed.resourceVersion)
            #expect((serialized.continueToken == nil) == (parsed.continueToken == nil))
            parsedToken = parsed.continueToken
            serializedToken = serialized.continueToken
        } while parsedToken != nil && serializedToken != nil
        #expect(!parsedNames.isEmpty)
        #expect(serializedNames == parsedNames)
    }

    @Test func theBodyIsTheParsedListsBytes() async throws {
        let (registry, pods) = try await Self.pods()
        let parsed = try await registry.list(pods, version: "v1", namespace: "default", options: ListOptions())
        let serialized = try await registry.listSerialized(pods, namespace: "default", options: ListOptions())
        let meta: JSONValue = ["resourceVersion": .string(String(parsed.resourceVersion)), "continue": "token"]
        var expected = JSONWriter.kubernetesBytes(["kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": .array(parsed.items)])
        expected.append(UInt8(ascii: "\n"))
        let body = ResponseBuilder.listBody(kind: "PodList", apiVersion: "v1", metadata: meta, items: serialized.items.map(\.bytes))
        #expect(Array(body.readableBytesView) == expected)
        let empty = ResponseBuilder.listBody(kind: "PodList", apiVersion: "v1", metadata: [:], items: [])
        #expect(String(buffer: empty) == #"{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}"# + "\n")
    }
}
