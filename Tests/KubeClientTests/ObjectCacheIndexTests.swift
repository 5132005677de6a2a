import KubeModel
import Testing
@testable import KubeClient

/// The cache's index of objects by node follows binding, moves, removal and relists.
@Suite struct ObjectCacheIndexTests {
    static func pod(_ name: String, node: String?) -> JSONValue {
        var pod: JSONValue = ["metadata": ["name": .string(name), "namespace": "default"], "spec": [:]]
        if let node { pod[path: ["spec", "nodeName"]] = .string(node) }
        return pod
    }

    static func names(_ objects: [JSONValue]) -> [String] { objects.compactMap(\.name).sorted() }

    @Test func podsOfANodeFollowTheirBinding() {
        let cache = ObjectCache()
        cache.put(Self.pod("p1", node: nil))
        cache.put(Self.pod("p2", node: "a"))
        #expect(Self.names(cache.list(nodeName: "a")) == ["p2"])
        cache.put(Self.pod("p1", node: "a"))
        #expect(Self.names(cache.list(nodeName: "a")) == ["p1", "p2"])
        cache.put(Self.pod("p2", node: "b"))
        #expect(Self.names(cache.list(nodeName: "a")) == ["p1"])
        #expect(Self.names(cache.list(nodeName: "b")) == ["p2"])
        cache.remove(ObjectCache.key(namespace: "default", name: "p1"))
        #expect(cache.list(nodeName: "a").isEmpty)
        _ = cache.replace(with: [Self.pod("p3", node: "a"), Self.pod("p4", node: nil)])
        #expect(Self.names(cache.list(nodeName: "a")) == ["p3"])
        #expect(cache.list(nodeName: "b").isEmpty)
    }
}
