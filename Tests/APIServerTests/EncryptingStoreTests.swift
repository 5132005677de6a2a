import Crypto
import Foundation
import KubeModel
import KubeTesting
import Testing

@testable import APIServer

@Suite struct EncryptingStoreTests {
    static let value = "hunter2-distinctive-plaintext-7f3a"
    static let key = "/registry/core/secrets/default/s"
    /// Removed when the test ends, with every data directory it made.
    let scratch = ScratchDirectory(prefix: "caravel-enc")

    func tempDir() -> String {
        scratch.subdirectory().path
    }

    func secret(_ value: String = EncryptingStoreTests.value) -> JSONValue {
        ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s", "namespace": "default"],
         "data": ["password": .string(Data(value.utf8).base64EncodedString())]]
    }

    func password(_ o: JSONValue?) -> String? {
        o?[path: ["data", "password"]]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every byte of the database, its WAL and shared memory files.
    func rawBytes(_ dbPath: String) -> Data {
        ["", "-wal", "-shm"].reduce(into: Data()) { acc, s in
            if let d = FileManager.default.contents(atPath: dbPath + s) { acc.append(d) }
        }
    }

    func keys(_ ids: String...) throws -> EncryptionKeys {
        try EncryptionKeys(ids.map { EncryptionKey(id: $0, key: SymmetricKey(size: .bits256)) })
    }

    @Test func roundtripLeavesNoPlaintextOnDisk() async throws {
        let path = tempDir() + "/state.db"
        let store = EncryptingStore(wrapping: try SQLiteStore(path: path, historySize: 1000), keys: try keys("k1"))
        let created = try await store.create(key: Self.key, object: secret())
        #expect(password(created.object) == Self.value)
        #expect(created.object.resourceVersion == String(created.revision))
        let updated = try await store.update(key: Self.key) { cur in
            #expect(password(cur.object) == Self.value)
            var o = cur.object
            o[path: ["metadata", "labels", "a"]] = "b"
            return o
        }
        #expect(updated.object.resourceVersion == String(updated.revision))
        let got = try await store.get(key: Self.key)
        #expect(password(got?.object) == Self.value && got?.object[path: ["metadata", "labels", "a"]] == "b")
        #expect(got?.object.resourceVersion == String(updated.revision))
        let raw = rawBytes(path)
        #expect(!raw.isEmpty)
        #expect(raw.range(of: Data(Self.value.utf8)) == nil)
        #expect(raw.range(of: Data(Data(Self.value.utf8).base64EncodedString().utf8)) == nil)
        // What the inner store holds is the envelope, with the key id in front.
        let stored = try await store.inner.get(key: Self.key)
        #expect(stored.flatMap { EncryptingStore.keyID(of: $0.object) } == "k1")
        // Other prefixes stay plaintext.
        _ = try await store.create(key: "/registry/core/configmaps/default/c", object: ["data": ["v": "visible-cm-value"]])
        #expect(rawBytes(path).range(of: Data("visible-cm-value".utf8)) != nil)
    }

    @Test func writesAnswerWithTheStoredBytesOnlyForPlainKeys() async throws {
        let store = EncryptingStore(wrapping: try SQLiteStore(path: nil, historySize: 1000), keys: try keys("k1"))
        let sealed = try await store.create(key: Self.key, object: secret())
        #expect(sealed.serialized == nil)
        let resealed = try await store.update(key: Self.key) { cur in
            var o = cur.object
            o[path: ["metadata", "labels", "a"]] = "b"
            return o
        }
        #expect(resealed.serialized == nil)
        let plainKey = "/registry/core/configmaps/default/c"
        let plain = try await store.create(key: plainKey, object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c", "namespace": "default"]])
        #expect(plain.serialized == JSONWriter.kubernetesBytes(plain.object))
        var next = plain.object
        next[path: ["data", "k"]] = "v"
        let replaced = try await store.replace(key: plainKey, current: plain, with: next)
        #expect(replaced.serialized == JSONWriter.kubernetesBytes(replaced.object))
    }

    @Test func aSerializedGetOfASealedKeyIsPlaintext() async throws {
        let store = EncryptingStore(wrapping: try SQLiteStore(path: nil, historySize: 1000), keys: try keys("k1"))
        _ = try await store.create(key: Self.key, object: secret())
        let opened = try #require(try await store.get(key: Self.key))
        let serialized = try #require(try await store.getSerialized(key: Self.key))
        #expect(Array(serialized.bytes) == JSONWriter.kubernetesBytes(opened.object))
        #expect(password(try JSONParser.parse(serialized.bytes)) == Self.value)
    }

    @Test func replaceSealsAndRefusesAStaleRevision() async throws {
        let path = tempDir() + "/state.db"
        let store = EncryptingStore(wrapping: try SQLiteStore(path: path, historySize: 1000), keys: try keys("k1"))
        let created = try await store.create(key: Self.key, object: secret("first-plaintext-91c2"))
        let replaced = try await store.replace(key: Self.key, current: created, with: secret())
        #expect(password(replaced.object) == Self.value && replaced.revision > created.revision)
        #expect(password(try await store.get(key: Self.key)?.object) == Self.value)
        #expect(rawBytes(path).range(of: Data(Data(Self.value.utf8).base64EncodedString().utf8)) == nil)
        await #expect(throws: StoreError.revisionMoved(key: Self.key)) {
            _ = try await store.replace(key: Self.key, current: created, with: secret("stale-plaintext-5d07"))
        }
        #expect(try await store.get(key: Self.key)?.revision == replaced.revision)
    }

    @Test func listAndWatchReturnPlaintext() async throws {
        let store = EncryptingStore(wrapping: try SQLiteStore(path: nil, historySize: 1000), keys: try keys("k1"))
        let (sub, _) = store.watchFromNow(prefix: "/registry/core/secrets/")
        _ = try await store.create(key: Self.key, object: secret())
        _ = try await store.update(key: Self.key) { cur in
            var o = cur.object
            o[path: ["data", "password"]] = .string(Data("second".utf8).base64EncodedString())
            return o
        }
        _ = try await store.delete(key: Self.key) { cur in #expect(password(cur.object) == "second") }
        var events: [StoreEvent] = []
        for await item in sub.items {
            if case .event(let e) = item { events.append(e) }
            if events.count == 3 { break }
        }
        sub.cancel()
        #expect(events.map(\.kind) == [.added, .modified, .deleted])
        // The inner store's bytes are envelopes: nothing shares them with a watcher.
        #expect(events.allSatisfy { $0.encodings == nil && $0.serialized == nil })
        #expect(password(events[0].object) == Self.value)
        #expect(password(events[1].object) == "second" && password(events[1].prevObject) == Self.value)
        #expect(events[1].object.resourceVersion == String(events[1].revision))
        #expect(password(events[2].object) == "second")

        _ = try await store.create(key: Self.key, object: secret())
        let page = try await store.list(prefix: "/registry/core/secrets/", startAfter: nil, limit: nil, atRevision: nil)
        #expect(page.items.count == 1 && password(page.items.first?.object) == Self.value)
        let all = try await store.list(prefix: "/registry/", startAfter: nil, limit: nil, atRevision: nil)
        #expect(password(all.items.first?.object) == Self.value)
        // A replayed watch decrypts too, prevObject included.
        let replay = try store.watch(prefix: "/registry/", after: 0)
        var replayed: [StoreEvent] = []
        for await item in replay.items {
            if case .event(let e) = item { replayed.append(e) }
            if replayed.count == 4 { break }
        }
        replay.cancel()
        #expect(replayed.allSatisfy { $0.object[EncryptingStore.field] == nil && $0.prevObject?[EncryptingStore.field] == nil })
    }

    @Test func wrongKeyFails() async throws {
        let inner = try SQLiteStore(path: nil, historySize: 1000)
        _ = try await EncryptingStore(wrapping: inner, keys: try keys("k1")).create(key: Self.key, object: secret())
        let other = EncryptingStore(wrapping: inner, keys: try keys("k1"))  // same id, different bytes
        await #expect(throws: StoreError.self) { _ = try await other.get(key: Self.key) }
        let unknown = EncryptingStore(wrapping: inner, keys: try keys("k9"))
        await #expect(throws: StoreError.self) { _ = try await unknown.get(key: Self.key) }
    }

    @Test func movedCiphertextDoesNotDecrypt() async throws {
        let inner = try SQLiteStore(path: nil, historySize: 1000)
        let store = EncryptingStore(wrapping: inner, keys: try keys("k1"))
        _ = try await store.create(key: Self.key, object: secret())
        let envelope = try #require(try await inner.get(key: Self.key)).object
        let moved = "/registry/core/secrets/default/stolen"
        _ = try await inner.create(key: moved, object: envelope)
        await #expect(throws: StoreError.self) { _ = try await store.get(key: moved) }
    }

    @Test func legacyPlaintextIsReadableAndEncryptedOnWrite() async throws {
        let inner = try SQLiteStore(path: nil, historySize: 1000)
        _ = try await inner.create(key: Self.key, object: secret())
        let store = EncryptingStore(wrapping: inner, keys: try keys("k1"))
        #expect(password(try await store.get(key: Self.key)?.object) == Self.value)
        #expect(try await store.reencryptAll() == 1)
        #expect(EncryptingStore.keyID(of: try #require(try await inner.get(key: Self.key)).object) == "k1")
        #expect(password(try await store.get(key: Self.key)?.object) == Self.value)
    }

    @Test func rotationReencryptsWithTheNewKey() async throws {
        let dir = tempDir()
        let keyFile = dir + "/encryption-keys.json"
        let first = try EncryptionKeys.loadOrCreate(path: keyFile)
        #expect(first.keys.map(\.id) == ["k1"])
        let attrs = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try EncryptionKeys.loadOrCreate(path: keyFile).keys.map(\.id) == ["k1"])

        let inner = try SQLiteStore(path: dir + "/state.db", historySize: 1000)
        let old = EncryptingStore(wrapping: inner, keys: first)
        for i in 0..<3 {
            _ = try await old.create(key: "/registry/core/secrets/default/s\(i)", object: secret("v\(i)"))
        }
        let rotated = try EncryptionKeys.loadOrCreate(path: keyFile, rotate: true)
        #expect(rotated.keys.map(\.id) == ["k2", "k1"])
        let store = EncryptingStore(wrapping: inner, keys: rotated)
        #expect(try await store.reencryptAll() == 3)
        #expect(try await store.reencryptAll() == 0)
        let raw = try await inner.list(prefix: "/registry/core/secrets/", startAfter: nil, limit: nil, atRevision: nil)
        #expect(raw.items.map { EncryptingStore.keyID(of: $0.object) } == ["k2", "k2", "k2"])
        // Once re-encrypted, the old key may go.
        let onlyNew = EncryptingStore(wrapping: inner, keys: try EncryptionKeys([rotated.primary]))
        let page = try await onlyNew.list(prefix: "/registry/core/secrets/", startAfter: nil, limit: nil, atRevision: nil)
        #expect(page.items.map { password($0.object) } == ["v0", "v1", "v2"])
    }
}
