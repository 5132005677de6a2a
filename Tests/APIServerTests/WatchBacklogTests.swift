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

    /// A write's answer and its watch line reuse the bytes the store wrote, and those bytes are
    /// exactly what serializing the object gives.
    @Test func writesAndWatchLinesCarryTheStoredBytes() async throws {
        let (r, s) = try await Self.open(backlog: 50)
        let (events, cancel) = try await Self.watchFromNow(r, s)
        defer { cancel() }
        var it = events.makeAsyncIterator()
        let created = try await r.create(s, version: "v1", namespace: "default", body: Self.configMap("cm"), options: WriteOptions())
        #expect(created.serialized == JSONWriter.kubernetesBytes(created.object))
        var body = created.object
        body[path: ["data", "k"]] = "changed"
        let updated = try await r.update(s, version: "v1", namespace: "default", name: "cm", body: body, target: .main, options: WriteOptions())
        #expect(updated.serialized == JSONWriter.kubernetesBytes(updated.object))
        #expect(updated.object.resourceVersion != created.object.resourceVersion)
        var dryRun = WriteOptions()
        dryRun.dryRun = true
        body[path: ["data", "k"]] = "dry"
        body[path: ["metadata", "resourceVersion"]] = updated.object[path: ["metadata", "resourceVersion"]]
        let dry = try await r.update(s, version: "v1", namespace: "default", name: "cm", body: body, target: .main, options: dryRun)
        #expect(dry.serialized == nil)
        for write in [created, updated] {
            let e = try #require(await it.next())
            #expect(e.isStoredForm)
            let stored = try #require(e.encodings?.storedObject)
            #expect(stored == JSONWriter.kubernetesBytes(write.object))
            #expect(JSONWriter.watchEvent(type: e.type, serializedObject: stored) == JSONWriter.kubernetesWatchEvent(type: e.type, object: e.object))
        }
    }

    /// A client of another version than the stored one gets the object converted, never the
    /// stored bytes.
    @Test func anotherVersionIsNotAnsweredFromTheStoredBytes() async throws {
        let (r, s) = try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000), group: "autoscaling",
                                                    plural: "horizontalpodautoscalers")
        #expect(s.definition.storageVersion == "v2")
        let hpa: JSONValue = ["apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": ["name": "h"],
                              "spec": ["scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": "web"],
                                       "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50]]
        let v1 = try await r.create(s, version: "v1", namespace: "default", body: hpa, options: WriteOptions())
        #expect(v1.serialized == nil)
        #expect(v1.object["apiVersion"] == "autoscaling/v1")
        var options = ListOptions()
        options.resourceVersion = v1.object.resourceVersion
        let (events, cancel) = try await r.watch(s, version: "v1", namespace: "default", options: options)
        defer { cancel() }
        var body = v1.object
        body[path: ["spec", "maxReplicas"]] = 4
        let updated = try await r.update(s, version: "v1", namespace: "default", name: "h", body: body, target: .main, options: WriteOptions())
        #expect(updated.serialized == nil)
        var it = events.makeAsyncIterator()
        let e = try #require(await it.next())
        #expect(!e.isStoredForm)
        #expect(e.object["apiVersion"] == "autoscaling/v1")
    }
}
