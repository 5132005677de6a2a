import KubeModel
import Testing

@testable import APIServer

/// A watch whose reader falls behind is ended with 410 Expired (so its client re-lists) rather
/// than queueing without bound, and a reader that keeps up gets every event once.
@Suite struct WatchBacklogTests {
    static func open(backlog: Int) async throws -> (Registry, any ResourceStrategy) {
        try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000, watcherBacklog: backlog), plural: "configmaps")
    }

    static func configMap(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["k": "v"]]
    }

    static func watchFromNow(_ r: Registry, _ s: any ResourceStrategy) async throws -> (AsyncStream<Registry.WatchOutput>, @Sendable () -> Void) {
        let list = try await r.list(s, version: "v1", namespace: "default", options: ListOptions())
        var options = ListOptions()
        options.resourceVersion = String(list.resourceVersion)
        return try await r.watch(s, version: "v1", namespace: "default", options: options)
    }

    @Test func aReaderThatFallsBehindGets410AndNoBacklog() async throws {
        let (r, s) = try await Self.open(backlog: 5)
        let (events, cancel) = try await Self.watchFromNow(r, s)
        defer { cancel() }
        for i in 0..<20 {
            _ = try await r.create(s, version: "v1", namespace: "default", body: Self.configMap("cm-\(i)"), options: WriteOptions())
        }
        var seen: [Registry.WatchOutput] = []
        for await e in events { seen.append(e) }
        #expect(seen.count == 1)
        #expect(seen.first?.type == "ERROR")
        #expect(seen.first?.object["code"]?.intValue == 410)
        #expect(seen.first?.object["reason"]?.stringValue == "Expired")
    }

    @Test func aReaderThatKeepsUpGetsEveryEventWithASharedEncoding() async throws {
        let (r, s) = try await Self.open(backlog: 5)
        let (a, cancelA) = try await Self.watchFromNow(r, s)
        let (b, cancelB) = try await Self.watchFromNow(r, s)
        defer { cancelA(); cancelB() }
        var ia = a.makeAsyncIterator()
        var ib = b.makeAsyncIterator()
        for i in 0..<20 {
            _ = try await r.create(s, version: "v1", namespace: "default", body: Self.configMap("cm-\(i)"), options: WriteOptions())
            let ea = await ia.next()
            let eb = await ib.next()
            #expect(ea?.type == "ADDED")
            #expect(ea?.object.name == "cm-\(i)")
            let shared = try #require(ea?.encodings)
            #expect(shared === eb?.encodings)
        }
    }
}
