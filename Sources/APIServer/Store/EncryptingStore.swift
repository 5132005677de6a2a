import Crypto
import Foundation
import KubeModel

/// Encryption at rest at the storage seam, as kube-apiserver's `aesgcm` provider: objects
/// under the chosen key prefixes (Secrets) go to the inner store as an envelope
/// `{"caravel.io/encrypted": "<key id>:<base64 nonce|ciphertext|tag>", "metadata": {...}}` and
/// come back decrypted from every read, watch event and update transform. The storage key
/// is the authenticated data, so a ciphertext copied under another key does not open. Only
/// `metadata.resourceVersion`, which the inner store stamps, stays in clear; it is copied
/// onto the decrypted object. A stored value that is not an envelope reads as plaintext, so
/// an unencrypted store migrates as its objects are rewritten.
public final class EncryptingStore: Store {
    /// The envelope's field holding the ciphertext.
    public static let field = "caravel.io/encrypted"
    /// What kube-apiserver encrypts by default.
    public static let defaultPrefixes = ["/registry/core/secrets/"]

    public let inner: any Store
    public let keys: EncryptionKeys
    public let prefixes: [String]

    public init(wrapping inner: any Store, keys: EncryptionKeys, prefixes: [String] = EncryptingStore.defaultPrefixes) {
        self.inner = inner
        self.keys = keys
        self.prefixes = prefixes
    }

    func encrypts(_ key: String) -> Bool { prefixes.contains { key.hasPrefix($0) } }

    /// Whether a watch or list under `prefix` can see encrypted keys.
    func overlaps(_ prefix: String) -> Bool { prefixes.contains { $0.hasPrefix(prefix) || prefix.hasPrefix($0) } }

    // MARK: envelope

    /// Seals `object` for `key` with the primary key.
    public func seal(_ object: JSONValue, key: String) throws -> JSONValue {
        guard encrypts(key) else { return object }
        var plain = object
        // The store stamps the clear copy; a stale one inside would only mislead.
        plain[path: ["metadata", "resourceVersion"]] = nil
        let primary = keys.primary
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.seal(JSONWriter.bytes(plain), using: primary.key, authenticating: Array(key.utf8))
        } catch {
            throw StoreError.io("cannot encrypt \(key): \(error)")
        }
        guard let combined = box.combined else { throw StoreError.io("cannot encrypt \(key): no combined form") }
        return [Self.field: .string("\(primary.id):\(combined.base64EncodedString())"), "metadata": [:]]
    }

    /// Opens an envelope stored at `key`; anything else is returned as it is (legacy plaintext).
    public func open(_ stored: JSONValue, key: String) throws -> JSONValue {
        guard let sealed = stored[Self.field]?.stringValue else { return stored }
        guard let colon = sealed.firstIndex(of: ":") else { throw StoreError.io("malformed encrypted value at \(key)") }
        let id = String(sealed[..<colon])
        guard let k = keys.key(id: id) else { throw StoreError.io("value at \(key) is encrypted with unknown key \(id)") }
        var object: JSONValue
        do {
            guard let combined = Data(base64Encoded: String(sealed[sealed.index(after: colon)...])) else {
                throw EncryptionError("not base64")
            }
            let plain = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: k.key, authenticating: Array(key.utf8))
            object = try JSONParser.parse(plain)
        } catch {
            // The error says which key, never what the bytes were.
            throw StoreError.io("cannot decrypt value at \(key) with key \(id)")
        }
        if let rv = stored[path: ["metadata", "resourceVersion"]] {
            object[path: ["metadata", "resourceVersion"]] = rv
        }
        return object
    }

    /// The key id a stored value is encrypted with, or nil for plaintext.
    public static func keyID(of stored: JSONValue) -> String? {
        stored[field]?.stringValue.flatMap { s in s.firstIndex(of: ":").map { String(s[..<$0]) } }
    }

    private func open(_ o: StoredObject) throws -> StoredObject {
        guard encrypts(o.key) else { return o }
        var out = o
        out.object = try open(o.object, key: o.key)
        // The inner store's bytes are the envelope, not the object.
        out.serialized = nil
        return out
    }

    private func open(_ e: StoreEvent) throws -> StoreEvent {
        guard encrypts(e.key) else { return e }
        var out = e
        out.object = try open(e.object, key: e.key)
        out.prevObject = try e.prevObject.map { try open($0, key: e.key) }
        // Shared encodings carry the inner store's bytes (the envelope): each watcher encodes
        // the opened object itself.
        out.serialized = nil
        out.encodings = nil
        return out
    }

    // MARK: Store

    public func create(key: String, object: JSONValue) async throws -> StoredObject {
        try open(try await inner.create(key: key, object: try seal(object, key: key)))
    }

    public func update(key: String, _ transform: @escaping @Sendable (StoredObject) throws -> JSONValue?) async throws -> StoredObject {
        guard encrypts(key) else { return try await inner.update(key: key, transform) }
        let result = try await inner.update(key: key) { [self] current in
            guard let next = try transform(try open(current)) else { return nil }
            return try seal(next, key: key)
        }
        return try open(result)
    }

    public func replace(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject {
        guard encrypts(key) else { return try await inner.replace(key: key, current: current, with: object) }
        return try await replaceThroughUpdate(key: key, current: current, with: object)
    }

    public func delete(key: String, precondition: @escaping @Sendable (StoredObject) throws -> Void) async throws -> StoredObject {
        guard encrypts(key) else { return try await inner.delete(key: key, precondition: precondition) }
        let result = try await inner.delete(key: key) { [self] current in try precondition(try open(current)) }
        return try open(result)
    }

    public func get(key: String) async throws -> StoredObject? {
        try await inner.get(key: key).map { try open($0) }
    }

    /// A sealed value is opened, so it is parsed; other keys pass the inner bytes on.
    public func getSerialized(key: String) async throws -> SerializedObject? {
        guard encrypts(key) else { return try await inner.getSerialized(key: key) }
        return try await get(key: key).map(SerializedObject.init(serializing:))
    }

    public func list(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreListResult {
        var page = try await inner.list(prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision)
        if overlaps(prefix) { page.items = try page.items.map { try open($0) } }
        return page
    }

    /// Sealed values are opened, so they are parsed; other prefixes pass the inner bytes on.
    public func listSerialized(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreSerializedListResult {
        guard overlaps(prefix) else {
            return try await inner.listSerialized(prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision)
        }
        return StoreSerializedListResult(serializing: try await list(prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision))
    }

    public func currentRevision() async throws -> Int64 { try await inner.currentRevision() }

    public func hasReached(_ revision: Int64) async throws -> Bool { try await inner.hasReached(revision) }

    public func watch(prefix: String, after: Int64) throws -> WatchSubscription {
        decrypting(try inner.watch(prefix: prefix, after: after), prefix: prefix)
    }

    public func watchFromNow(prefix: String) -> (WatchSubscription, Int64) {
        let (sub, now) = inner.watchFromNow(prefix: prefix)
        return (decrypting(sub, prefix: prefix), now)
    }

    public func oldestRevision() -> Int64 { inner.oldestRevision() }

    /// Sealed values would reach the observer sealed: such prefixes are not observed.
    public func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation? {
        overlaps(prefix) ? nil : inner.observe(prefix: prefix, apply)
    }

    public func broadcastProgress() { inner.broadcastProgress() }

    /// Decrypts events as the consumer pulls them, so the inner stream's buffer limit (and
    /// its ending of slow watchers) still applies. An event that does not decrypt ends the
    /// stream: the client re-lists and gets the error, rather than missing an event.
    private func decrypting(_ sub: WatchSubscription, prefix: String) -> WatchSubscription {
        guard overlaps(prefix) else { return sub }
        let source = IteratorBox(sub.items.makeAsyncIterator())
        let cancel = sub.cancel
        let items = AsyncStream<WatchItem>(unfolding: { [self] in
            guard let item = await source.next() else { return nil }
            guard case .event(let e) = item else { return item }
            do { return .event(try open(e)) } catch {
                cancel()
                return nil
            }
        }, onCancel: cancel)
        return WatchSubscription(items: items, cancel: cancel, fellBehind: sub.fellBehind)
    }

    /// Re-encrypts every object under the encrypted prefixes with the primary key (after a
    /// rotation), each by its own read-modify-write; returns how many were rewritten.
    public func reencryptAll() async throws -> Int {
        var count = 0
        for prefix in prefixes {
            var after: String?
            repeat {
                let page = try await inner.list(prefix: prefix, startAfter: after, limit: 500, atRevision: nil)
                for item in page.items where Self.keyID(of: item.object) != keys.primary.id {
                    do {
                        _ = try await update(key: item.key) { $0.object }
                        count += 1
                    } catch StoreError.notFound {
                        continue  // deleted meanwhile
                    }
                }
                after = page.hasMore ? page.items.last?.key : nil
            } while after != nil
        }
        return count
    }
}

/// The inner stream's iterator, pulled only by the outer stream's single consumer:
/// `AsyncStream(unfolding:)` never calls its closure concurrently.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: AsyncStream<WatchItem>.AsyncIterator
    init(_ iterator: AsyncStream<WatchItem>.AsyncIterator) { self.iterator = iterator }
    func next() async -> WatchItem? { await iterator.next() }
}
