import Crypto
import Foundation
import Synchronization
import KubeModel
import Testing

@testable import APIServer

/// The in-memory copies admission reads: loaded on first use, holding every write the store
/// acknowledged, and answering nothing (so the caller reads the store) when they cannot be sure.
@Suite struct ObjectMirrorTests {
    static let prefix = "/registry/core/resourcequotas/"

    static func quota(_ name: String, _ pods: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ResourceQuota", "metadata": ["name": .string(name)], "spec": ["hard": ["pods": .string(pods)]]]
    }

    static func hardPods(_ objects: [JSONValue]?) -> [String] {
        (objects ?? []).map { $0[path: ["spec", "hard", "pods"]]?.stringValue ?? "" }
    }

    @Test func everyAcknowledgedWriteIsSeenAtOnce() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let mirror = ObjectMirror(prefix: Self.prefix, namespaced: true)
        _ = try await store.create(key: Self.prefix + "a/q1", object: Self.quota("q1", "1"))
        #expect(Self.hardPods(await mirror.list(namespace: "a", store: store)) == ["1"])
        for i in 2...20 {
            _ = try await store.create(key: Self.prefix + "a/q\(i)", object: Self.quota("q\(i)", "\(i)"))
            // No wait: the store publishes before the create returns.
            #expect(await mirror.list(namespace: "a", store: store)?.count == i)
        }
        _ = try await store.update(key: Self.prefix + "a/q1") { cur in var o = cur.object; o[path: ["spec", "hard", "pods"]] = "9"; return o }
        #expect(await mirror.object(namespace: "a", name: "q1", store: store)??[path: ["spec", "hard", "pods"]] == "9")
        _ = try await store.delete(key: Self.prefix + "a/q1") { _ in }
        #expect(await mirror.object(namespace: "a", name: "q1", store: store) == .some(nil))
        _ = try await store.create(key: Self.prefix + "b/q1", object: Self.quota("q1", "5"))
        #expect(Self.hardPods(await mirror.list(namespace: "b", store: store)) == ["5"])
        #expect(await mirror.list(namespace: nil, store: store)?.count == 20)
        #expect(await mirror.list(namespace: "none", store: store)?.isEmpty == true)
    }

    @Test func anEmptyStoreIsLoadedAtItsFirstUse() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let mirror = ObjectMirror(prefix: Self.prefix, namespaced: true)
        // Nothing published yet, so no revision to pin the first list at.
        #expect(await mirror.list(namespace: "a", store: store)?.isEmpty == true)
        #expect(store.hub.observerCount == 1)
        _ = try await store.create(key: Self.prefix + "a/q1", object: Self.quota("q1", "1"))
        #expect(Self.hardPods(await mirror.list(namespace: "a", store: store)) == ["1"])
        #expect(store.hub.observerCount == 1)
    }

    @Test func aCancelledObservationHearsNothingMore() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let heard = Mutex(0)
        let observation = try #require(store.observe(prefix: Self.prefix) { _ in heard.withLock { $0 += 1 } })
        _ = try await store.create(key: Self.prefix + "a/q1", object: Self.quota("q1", "1"))
        observation.cancel()
        #expect(store.hub.observerCount == 0)
        _ = try await store.create(key: Self.prefix + "a/q2", object: Self.quota("q2", "2"))
        #expect(heard.withLock { $0 } == 1)
    }

    @Test func writesDuringTheFirstLoadAreKept() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        for i in 0..<300 { _ = try await store.create(key: Self.prefix + "a/q\(i)", object: Self.quota("q\(i)", "1")) }
        let mirror = ObjectMirror(prefix: Self.prefix, namespaced: true)
        async let loaded = mirror.list(namespace: "a", store: store)
        let writer = Task {
            for i in 300..<340 { _ = try await store.create(key: Self.prefix + "a/q\(i)", object: Self.quota("q\(i)", "1")) }
            _ = try await store.delete(key: Self.prefix + "a/q0") { _ in }
        }
        _ = await loaded
        try await writer.value
        let after = await mirror.list(namespace: "a", store: store)
        #expect(after?.count == 339)
        #expect(after?.contains { $0.name == "q0" } == false)
        #expect(after?.contains { $0.name == "q339" } == true)
    }

    @Test func aResetHistoryIsLoadedAgain() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let mirror = ObjectMirror(prefix: Self.prefix, namespaced: true)
        _ = try await store.create(key: Self.prefix + "a/q1", object: Self.quota("q1", "1"))
        #expect(await mirror.list(namespace: "a", store: store)?.count == 1)
        store.hub.reset(at: try await store.currentRevision())
        _ = try await store.create(key: Self.prefix + "a/q2", object: Self.quota("q2", "2"))
        // The observation ended with the reset; the next use lists the store again.
        #expect(Self.hardPods(await mirror.list(namespace: "a", store: store)) == ["1", "2"])
        _ = try await store.create(key: Self.prefix + "a/q3", object: Self.quota("q3", "3"))
        #expect(await mirror.list(namespace: "a", store: store)?.count == 3)
    }

    @Test func sealedResourcesAreNotMirrored() async throws {
        let store = EncryptingStore(wrapping: try SQLiteStore(path: nil, historySize: 1000), keys: try EncryptionKeys([EncryptionKey(id: "k1", key: SymmetricKey(size: .bits256))]),
                                    prefixes: [Self.prefix])
        let mirror = ObjectMirror(prefix: Self.prefix, namespaced: true)
        _ = try await store.create(key: Self.prefix + "a/q1", object: Self.quota("q1", "1"))
        #expect(await mirror.list(namespace: "a", store: store) == nil)
    }

    @Test func admissionReadsTheMirrorAndFallsBackToTheStore() async throws {
        let (registry, quotas) = try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000), plural: "resourcequotas")
        #expect(try await registry.admissionList(quotas, namespace: "default").isEmpty)
        _ = try await registry.create(quotas, version: "v1", namespace: "default", body: Self.quota("q", "3"), options: WriteOptions())
        #expect(Self.hardPods(try await registry.admissionList(quotas, namespace: "default")) == ["3"])
        #expect(try await registry.admissionFind(registry.namespaces, namespace: nil, name: "default") != nil)
        #expect(try await registry.admissionFind(registry.namespaces, namespace: nil, name: "missing") == nil)
    }
}
