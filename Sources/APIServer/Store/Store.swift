import Foundation
import KubeModel

/// One object as the store holds it: its key and the revision of its last write.
public struct StoredObject: Sendable {
    public var key: String
    public var revision: Int64
    public var object: JSONValue
    /// `object` as the store just wrote it (JSON in Kubernetes field order, resourceVersion
    /// included), when a write has it at hand: the write's answer is sent from these bytes.
    public var serialized: [UInt8]?

    public init(key: String, revision: Int64, object: JSONValue, serialized: [UInt8]? = nil) {
        self.key = key
        self.revision = revision
        self.object = object
        self.serialized = serialized
    }
}

/// A committed change, in revision order. `prevObject` lets filtered watches tell an object
/// that left their selection (sent as DELETED) from one that changed inside it.
public struct StoreEvent: Sendable {
    public enum Kind: Int, Sendable { case added = 0, modified = 1, deleted = 2 }
    public var kind: Kind
    public var key: String
    public var revision: Int64
    public var object: JSONValue
    public var prevObject: JSONValue?
    /// Serialized bytes of `object` and `prevObject`: what the watch cache counts against its
    /// byte bound.
    public var size: Int = 0
    /// Watch lines already encoded for this event, shared by the watchers it is delivered to
    /// (never kept in the watch cache itself).
    public var encodings: WatchEventEncodings? = nil
    /// `object` as the store wrote it, when the store has it at hand: the watch cache keeps
    /// these bytes rather than serializing the object again.
    public var serialized: [UInt8]? = nil
}

/// A page of a list, read at one revision.
public struct StoreListResult: Sendable {
    public var items: [StoredObject]
    /// The revision the list was read at: the list's `resourceVersion`.
    public var revision: Int64
    /// Whether more items follow the last one returned.
    public var hasMore: Bool
    /// Number of items after this page, when cheap to know.
    public var remaining: Int?
}

/// One object as the store serialized it: JSON in Kubernetes field order with its
/// `resourceVersion`, ready to be sent as it is.
public struct SerializedObject: Sendable {
    public var key: String
    public var revision: Int64
    public var bytes: Data
}

extension SerializedObject {
    /// A parsed object serialized as a response writes it.
    public init(serializing stored: StoredObject) {
        self.init(key: stored.key, revision: stored.revision, bytes: Data(stored.serialized ?? JSONWriter.kubernetesBytes(stored.object)))
    }
}

/// A page of a list whose items are not parsed.
public struct StoreSerializedListResult: Sendable {
    public var items: [SerializedObject]
    public var revision: Int64
    public var hasMore: Bool
}

extension StoreError {
    /// A `replace` found a newer revision than the one its caller read.
    static func revisionMoved(key: String) -> StoreError {
        .conflict(key: key, message: "the object has been modified since it was read")
    }
}

extension StoreSerializedListResult {
    /// The page of a parsed list, each item serialized as a response writes it.
    public init(serializing page: StoreListResult) {
        self.init(items: page.items.map(SerializedObject.init(serializing:)),
                  revision: page.revision, hasMore: page.hasMore)
    }
}

public enum StoreError: Error, Sendable, Equatable {
    case notFound(key: String)
    case alreadyExists(key: String)
    /// A precondition (resourceVersion or uid) did not hold.
    case conflict(key: String, message: String)
    /// The requested revision was compacted away.
    case compacted(requested: Int64, oldest: Int64)
    case io(String)
}

/// Items a watch subscription yields: events in revision order, and progress marks that say
/// every event up to a revision has been delivered (these become BOOKMARKs).
public enum WatchItem: Sendable {
    case event(StoreEvent)
    case progress(Int64)
}

/// What an observer of the store's commits is told: an event, or that its observation ended
/// (the history was reset or the store closed) and what it mirrors may be stale.
public enum ObservedChange: Sendable {
    case event(StoreEvent)
    case reset
}

/// An observation of the store's commits: every event after `revision` reaches the observer
/// until `cancel` is called or a `.reset` ends it.
public struct StoreObservation: Sendable {
    public var revision: Int64
    public var cancel: @Sendable () -> Void
}

/// A live subscription to committed changes under a key prefix.
public struct WatchSubscription: Sendable {
    public var items: AsyncStream<WatchItem>
    /// Ends the subscription and frees its buffer.
    public var cancel: @Sendable () -> Void
    /// Whether the subscription was ended because its reader fell too far behind: the client
    /// must re-list (410 Expired) instead of resuming.
    public var fellBehind: @Sendable () -> Bool = { false }
}

/// The storage seam: SQLite now, etcd later. Keys look like `/registry/apps/deployments/ns/name`.
/// Every write is one committed transaction that advances one global revision.
public protocol Store: Sendable {
    /// Stores a new object; fails with `alreadyExists` if the key is live.
    func create(key: String, object: JSONValue) async throws -> StoredObject
    /// Read-modify-write of a live key, atomically. `transform` sees the current object and
    /// returns the new one, or nil to leave it unchanged; it may throw to refuse.
    func update(key: String, _ transform: @escaping @Sendable (StoredObject) throws -> JSONValue?) async throws -> StoredObject
    /// Writes `object` over a live key only while its newest revision is still
    /// `current.revision` (a compare-and-swap, as etcd's transaction on `mod_revision`), and
    /// fails with `conflict` once another write landed. `current` is what the caller read at
    /// that revision: the store need not read and parse it again inside the write.
    func replace(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject
    /// Deletes a live key after `precondition` accepted the current object; returns the object
    /// as last stored, with the deletion's revision.
    func delete(key: String, precondition: @escaping @Sendable (StoredObject) throws -> Void) async throws -> StoredObject
    func get(key: String) async throws -> StoredObject?
    /// `get` without parsing: the object's bytes as a response writes them.
    func getSerialized(key: String) async throws -> SerializedObject?
    /// Keys under `prefix`, in key order, after `startAfter`, at `revision` (nil: the newest).
    func list(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreListResult
    /// `list` without parsing: a store that keeps objects as response bytes hands them over,
    /// so a LIST that needs nothing inside the objects is a concatenation.
    func listSerialized(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreSerializedListResult
    /// The newest committed revision.
    func currentRevision() async throws -> Int64
    /// Whether `revision` is committed. A store whose watch cache already holds it answers
    /// without asking the backend.
    func hasReached(_ revision: Int64) async throws -> Bool
    /// Events under `prefix` with a revision greater than `after`, then live ones.
    func watch(prefix: String, after: Int64) throws -> WatchSubscription
    /// Live events under `prefix` from now on, and the revision "now" is: every event after
    /// it will be delivered.
    func watchFromNow(prefix: String) -> (WatchSubscription, Int64)
    /// Oldest revision a watch or a paged list can still start from.
    func oldestRevision() -> Int64
    /// Sends a progress mark to every watcher (bookmarks).
    func broadcastProgress()
    /// Calls `apply` with every event under `prefix` as the store publishes it (see
    /// `WatchHub.observe`); nil when this store cannot be observed so.
    func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation?
}

extension Store {
    public func replace(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject {
        try await replaceThroughUpdate(key: key, current: current, with: object)
    }

    /// `replace` as a read-modify-write, for a store with no cheaper compare-and-swap.
    public func replaceThroughUpdate(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject {
        try await update(key: key) { stored in
            guard stored.revision == current.revision else { throw StoreError.revisionMoved(key: key) }
            return object
        }
    }

    public func hasReached(_ revision: Int64) async throws -> Bool { try await currentRevision() >= revision }

    public func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation? { nil }

    public func getSerialized(key: String) async throws -> SerializedObject? {
        try await get(key: key).map(SerializedObject.init(serializing:))
    }

    public func listSerialized(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreSerializedListResult {
        StoreSerializedListResult(serializing: try await list(prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision))
    }
}
