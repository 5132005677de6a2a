import Foundation
import GRDB
import KubeModel
import Logging

/// The embedded store: one append-only SQLite table in WAL mode, as kine does. Each write
/// inserts a row whose primary key is the new global revision; the newest row per key is the
/// live object, a tombstone row marks a delete. Old rows are compacted past the watch history
/// that `historySize` keeps, so paged lists and watches can read recent past revisions.
public final class SQLiteStore: Store {
    let db: any DatabaseWriter
    let hub: WatchHub
    typealias Revisions = Locked<(last: Int64, compacted: Int64, writesSinceCompaction: Int)>
    /// Revision bookkeeping, touched only on the serialized writer queue.
    private let revisions: Revisions
    let historySize: Int
    typealias Write = @Sendable (Database, Int64) throws -> StoreEvent
    /// Concurrent writes share one transaction and one fsync.
    private let writes: GroupCommit<Database, Write, StoreEvent>
    /// Compaction outcomes, shown in `/metrics`.
    public let metrics: StoreMetrics
    let logger: Logger
    /// Held for the store's life: one process writes a database file at a time.
    private let lock: DatabaseLock?

    /// Opens (creating if needed) the store at `path`, or an in-memory one when `path` is nil.
    /// `historyBytes` bounds the watch cache's events by their serialized size as well;
    /// `watcherBacklog` is how many events one watcher may have queued before it is cut off.
    public init(path: String?, historySize: Int, historyBytes: Int = WatchHub.defaultMaxBytes, watcherBacklog: Int = 10_000,
                metrics: StoreMetrics = StoreMetrics(),
                logger: Logger = Logger(label: "caravel.store")) throws {
        self.metrics = metrics
        self.logger = logger
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // FULL: an acknowledged write survives power loss, not only a killed process.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        if let path {
            lock = try DatabaseLock(databasePath: path)
            db = try DatabasePool(path: path, configuration: config)
        } else {
            lock = nil
            db = try DatabaseQueue(configuration: config)
        }
        self.historySize = max(1, historySize)
        try db.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS log (
                    revision INTEGER PRIMARY KEY,
                    key TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    prev_revision INTEGER NOT NULL DEFAULT 0,
                    value BLOB NOT NULL
                );
                CREATE INDEX IF NOT EXISTS log_key_revision ON log(key, revision);
                CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
        }
        let (last, compacted, recent) = try db.read { db -> (Int64, Int64, [StoreEvent]) in
            let maxRev = try Int64.fetchOne(db, sql: "SELECT MAX(revision) FROM log") ?? 0
            let metaRev = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'revision'") ?? 0
            let compacted = try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE name = 'compacted'") ?? 0
            let rows = try Row.fetchAll(db, sql: """
                SELECT l.revision, l.key, l.kind, l.value, p.value AS prev FROM log l
                LEFT JOIN log p ON p.revision = l.prev_revision
                WHERE l.revision > ? ORDER BY l.revision DESC LIMIT ?
                """, arguments: [compacted, historySize])
            let events = rows.reversed().compactMap { row -> StoreEvent? in
                let value = row["value"] as Data
                guard let obj = try? JSONParser.parse(value) else { return nil }
                let prevBytes = row["prev"] as Data?
                let prev = prevBytes.flatMap { try? JSONParser.parse($0) }
                return StoreEvent(kind: StoreEvent.Kind(rawValue: row["kind"]) ?? .modified, key: row["key"],
                                  revision: row["revision"], object: obj, prevObject: prev,
                                  size: value.count + (prevBytes?.count ?? 0), serialized: Array(value))
            }
            return (max(maxRev, metaRev), compacted, events)
        }
        let replayFloor = max(compacted, (recent.first?.revision ?? last + 1) - 1)
        hub = WatchHub(capacity: historySize, maxBytes: historyBytes, lastRevision: last,
                     compactedRevision: recent.count < historySize ? compacted : replayFloor, perWatcherBuffer: watcherBacklog)
        hub.preload(recent)
        revisions = Locked((last, compacted, 0))
        writes = GroupCommit(run: { [db] drain in db.asyncWriteWithoutTransaction(drain) },
                             commit: { [revisions, hub] db, batch in Self.commitBatch(db, batch, revisions: revisions, hub: hub) })
    }

    // MARK: reads

    private static func latestRow(_ db: Database, key: String, atRevision: Int64? = nil) throws -> Row? {
        if let atRevision {
            return try Row.fetchOne(db.cachedStatement(sql: "SELECT revision, kind, value FROM log WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1"),
                                    arguments: [key, atRevision])
        }
        return try Row.fetchOne(db.cachedStatement(sql: "SELECT revision, kind, value FROM log WHERE key = ? ORDER BY revision DESC LIMIT 1"), arguments: [key])
    }

    private static func decode(_ row: Row, key: String) throws -> StoredObject? {
        guard (row["kind"] as Int) != StoreEvent.Kind.deleted.rawValue else { return nil }
        do {
            return StoredObject(key: key, revision: row["revision"], object: try JSONParser.parse(row["value"] as Data))
        } catch {
            throw StoreError.io("corrupt value at \(key): \(error)")
        }
    }

    /// A read on one of the pool's readers, handed back on the reader's own queue as soon as
    /// `body` returns. GRDB's async `read` keeps its reader until the awaiting task has run
    /// again twice (once the reader is taken, once the read is done): on a busy server the
    /// five readers sat waiting for the task pool and an update's read of the current object
    /// queued for up to 1.5 s.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            db.asyncRead { database in
                continuation.resume(with: Result { try body(database.get()) })
            }
        }
    }

    public func get(key: String) async throws -> StoredObject? {
        try await read { db in
            guard let row = try Self.latestRow(db, key: key) else { return nil }
            return try Self.decode(row, key: key)
        }
    }

    /// The row's bytes, written as a response writes them, handed over unparsed.
    public func getSerialized(key: String) async throws -> SerializedObject? {
        try await read { db in
            guard let row = try Self.latestRow(db, key: key), (row["kind"] as Int) != StoreEvent.Kind.deleted.rawValue else { return nil }
            return SerializedObject(key: key, revision: row["revision"], bytes: row["value"])
        }
    }

    public func currentRevision() async throws -> Int64 { revisions.value.last }

    public func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation? {
        hub.observe(prefix: prefix, apply)
    }

    public func oldestRevision() -> Int64 { revisions.value.compacted + 1 }

    public func list(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreListResult {
        try await read { db in
            let (rows, rev, more) = try Self.liveRows(db, prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision)
            var items: [StoredObject] = []
            items.reserveCapacity(rows.count)
            for row in rows {
                if let o = try Self.decode(row, key: row["key"]) { items.append(o) }
            }
            return StoreListResult(items: items, revision: rev, hasMore: more, remaining: nil)
        }
    }

    /// The rows hold JSON in Kubernetes field order with the resourceVersion stamped: they
    /// are handed over as they are.
    public func listSerialized(prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) async throws -> StoreSerializedListResult {
        try await read { db in
            let (rows, rev, more) = try Self.liveRows(db, prefix: prefix, startAfter: startAfter, limit: limit, atRevision: atRevision)
            let items = rows.map { SerializedObject(key: $0["key"], revision: $0["revision"], bytes: $0["value"]) }
            return StoreSerializedListResult(items: items, revision: rev, hasMore: more)
        }
    }

    /// The live rows of a list page (at most `limit`), the revision read at, and whether more follow.
    private static func liveRows(_ db: Database, prefix: String, startAfter: String?, limit: Int?, atRevision: Int64?) throws -> ([Row], Int64, Bool) {
        // The read transaction is a snapshot: the revision, the compaction mark and the rows
        // agree. Compaction through C removes rows a read at C or earlier needs, so such a
        // read is refused here, inside the snapshot, rather than answered with rows missing.
        if let atRevision {
            let compacted = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE name = 'compacted'")) ?? 0
            if atRevision <= compacted { throw StoreError.compacted(requested: atRevision, oldest: compacted + 1) }
        }
        let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(revision) FROM log")) ?? 0
        let rev = atRevision ?? current
        // Keys are compared as text; start strictly after the last key of the previous page.
        let lower = startAfter.map { max(prefix, $0) } ?? prefix
        let lowerOp = startAfter == nil ? ">=" : ">"
        let upper = prefix + "\u{10FFFF}"
        let fetchLimit = limit.map { $0 + 1 } ?? -1
        // Walks the (key, revision) index in key order and keeps each key's newest row at
        // `rev`: no temporary B-tree, which for a large list spilled every value to a file.
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT l.key, l.revision, l.kind, l.value FROM log l
            WHERE l.key \(lowerOp) ? AND l.key < ?
              AND l.revision = (SELECT MAX(n.revision) FROM log n WHERE n.key = l.key AND n.revision <= ?)
              AND l.kind != 2
            ORDER BY l.key LIMIT ?
            """), arguments: [lower, upper, rev, fetchLimit])
        let more = limit.map { rows.count > $0 } ?? false
        return (Array(rows.prefix(limit ?? Int.max)), max(rev, 0), more)
    }

    // MARK: writes

    /// Stamps `metadata.resourceVersion` with the revision the write will commit at.
    private static func stamp(_ object: JSONValue, revision: Int64) -> JSONValue {
        var o = object
        o[path: ["metadata", "resourceVersion"]] = .string(String(revision))
        return o
    }

    /// Runs one write transaction on the serialized writer and publishes its event after commit.
    private func commit(_ body: @escaping @Sendable (Database, Int64) throws -> StoreEvent) async throws -> StoreEvent {
        do {
            return try await commitOnce(body)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_FULL {
            // Nothing was written (the transaction rolled back); say why in plain words.
            throw StoreError.io("the store's disk is full (\(e.message ?? "database or disk is full")): writes fail until space is freed")
        }
    }

    private func commitOnce(_ body: @escaping @Sendable (Database, Int64) throws -> StoreEvent) async throws -> StoreEvent {
        let event = try await writes.submit(body)
        await compactIfDue()
        return event
    }

    /// One transaction for every queued write, each in its own savepoint: a write that fails
    /// is rolled back alone and the others commit, sharing one fsync. Runs on the writer;
    /// events are published there in commit order, after the commit.
    private static func commitBatch(_ db: Database, _ batch: [Write], revisions: Revisions, hub: WatchHub) -> [Result<StoreEvent, any Error>] {
        let first = revisions.value.last
        var last = first
        var results: [Result<StoreEvent, any Error>] = []
        results.reserveCapacity(batch.count)
        do {
            try db.beginTransaction(.immediate)
            do {
                for body in batch {
                    try db.cachedStatement(sql: "SAVEPOINT write").execute()
                    do {
                        let event = try body(db, last + 1)
                        try db.cachedStatement(sql: "RELEASE write").execute()
                        last += 1
                        results.append(.success(event))
                    } catch {
                        try db.cachedStatement(sql: "ROLLBACK TO write").execute()
                        try db.cachedStatement(sql: "RELEASE write").execute()
                        results.append(.failure(error))
                    }
                }
                if last > first {
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('revision', ?)").execute(arguments: [last])
                }
                try db.commit()
            } catch {
                try? db.rollback()
                throw error
            }
        } catch {
            // Nothing of the batch was committed.
            return batch.map { _ in .failure(error) }
        }
        revisions.withLock { $0.last = last; $0.writesSinceCompaction += Int(last - first) }
        hub.publish(results.compactMap { try? $0.get() })
        return results
    }

    /// Appends one row to the log; returns the stored value's bytes. The value is
    /// written as a response writes it, so a LIST can send it without parsing.
    private func insert(_ db: Database, revision: Int64, key: String, kind: StoreEvent.Kind, prev: Int64, object: JSONValue) throws -> [UInt8] {
        let bytes = JSONWriter.kubernetesBytes(object)
        try db.cachedStatement(sql: "INSERT INTO log(revision, key, kind, prev_revision, value) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [revision, key, kind.rawValue, prev, Data(bytes)])
        return bytes
    }

    private static func valueSize(_ row: Row) -> Int { (row["value"] as Data?)?.count ?? 0 }

    public func create(key: String, object: JSONValue) async throws -> StoredObject {
        let e = try await commit { db, rev in
            var prev: Int64 = 0
            if let row = try Self.latestRow(db, key: key) {
                if (row["kind"] as Int) != StoreEvent.Kind.deleted.rawValue { throw StoreError.alreadyExists(key: key) }
                prev = row["revision"]
            }
            let stamped = Self.stamp(object, revision: rev)
            let bytes = try self.insert(db, revision: rev, key: key, kind: .added, prev: prev, object: stamped)
            return StoreEvent(kind: .added, key: key, revision: rev, object: stamped, prevObject: nil, size: bytes.count, serialized: bytes)
        }
        return StoredObject(key: key, revision: e.revision, object: e.object, serialized: e.serialized)
    }

    public func update(key: String, _ transform: @escaping @Sendable (StoredObject) throws -> JSONValue?) async throws -> StoredObject {
        // An unchanged object is not written; it comes back through this error.
        struct Unchanged: Error { let current: StoredObject }
        do {
            let e = try await commit { db, rev in
                guard let row = try Self.latestRow(db, key: key), let current = try Self.decode(row, key: key) else {
                    throw StoreError.notFound(key: key)
                }
                guard let updated = try transform(current) else { throw Unchanged(current: current) }
                let stamped = Self.stamp(updated, revision: rev)
                let bytes = try self.insert(db, revision: rev, key: key, kind: .modified, prev: current.revision, object: stamped)
                return StoreEvent(kind: .modified, key: key, revision: rev, object: stamped, prevObject: current.object,
                                  size: bytes.count + Self.valueSize(row), serialized: bytes)
            }
            return StoredObject(key: key, revision: e.revision, object: e.object, serialized: e.serialized)
        } catch let u as Unchanged {
            return u.current
        }
    }

    public func replace(key: String, current: StoredObject, with object: JSONValue) async throws -> StoredObject {
        let e = try await commit { db, rev in
            // The newest row's revision and size only: the caller holds the object at `current`.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT revision, kind, length(value) AS size FROM log WHERE key = ? ORDER BY revision DESC LIMIT 1"),
                                             arguments: [key]),
                  (row["kind"] as Int) != StoreEvent.Kind.deleted.rawValue else {
                throw StoreError.notFound(key: key)
            }
            guard (row["revision"] as Int64) == current.revision else { throw StoreError.revisionMoved(key: key) }
            let stamped = Self.stamp(object, revision: rev)
            let bytes = try self.insert(db, revision: rev, key: key, kind: .modified, prev: current.revision, object: stamped)
            return StoreEvent(kind: .modified, key: key, revision: rev, object: stamped, prevObject: current.object,
                              size: bytes.count + (row["size"] as Int), serialized: bytes)
        }
        return StoredObject(key: key, revision: e.revision, object: e.object, serialized: e.serialized)
    }

    public func delete(key: String, precondition: @escaping @Sendable (StoredObject) throws -> Void) async throws -> StoredObject {
        let e = try await commit { db, rev in
            guard let row = try Self.latestRow(db, key: key), let current = try Self.decode(row, key: key) else {
                throw StoreError.notFound(key: key)
            }
            try precondition(current)
            let stamped = Self.stamp(current.object, revision: rev)
            let bytes = try self.insert(db, revision: rev, key: key, kind: .deleted, prev: current.revision, object: stamped)
            return StoreEvent(kind: .deleted, key: key, revision: rev, object: stamped, prevObject: current.object,
                              size: bytes.count + Self.valueSize(row), serialized: bytes)
        }
        return StoredObject(key: key, revision: e.revision, object: e.object)
    }

    // MARK: watch and compaction

    public func watch(prefix: String, after: Int64) throws -> WatchSubscription {
        try hub.subscribe(prefix: prefix, after: after)
    }

    public func watchFromNow(prefix: String) -> (WatchSubscription, Int64) {
        hub.subscribeNow(prefix: prefix)
    }

    public func broadcastProgress() { hub.broadcastProgress() }

    /// Drops superseded rows and tombstones older than the kept history, every so often.
    private func compactIfDue() async {
        let due: Int64? = revisions.withLock { r in
            guard r.writesSinceCompaction >= max(100, historySize / 4) else { return nil }
            r.writesSinceCompaction = 0
            let target = r.last - Int64(historySize)
            return target > r.compacted ? target : nil
        }
        guard let target = due else { return }
        do {
            try await compact(through: target)
            metrics.compactionSucceeded()
        } catch {
            // History keeps growing until a later compaction succeeds; nothing is lost.
            metrics.compactionFailed()
            logger.error("compaction failed", metadata: ["through": .stringConvertible(target), "error": .string("\(error)")])
        }
    }

    /// Removes history at or below `revision`, as etcd's compaction does: each key keeps its
    /// newest row at or below `revision` (unless that row is a deletion), so that a read at any
    /// later revision, such as the next page of a list, still finds the key as it was then.
    /// A row superseded only after `revision` stays.
    public func compact(through revision: Int64) async throws {
        try await db.write { [revisions] db in
            try db.execute(sql: """
                DELETE FROM log WHERE revision <= ?1 AND (kind = 2
                  OR revision < (SELECT MAX(l2.revision) FROM log l2 WHERE l2.key = log.key AND l2.revision <= ?1))
                """, arguments: [revision])
            try db.execute(sql: "INSERT OR REPLACE INTO meta(name, value) VALUES ('compacted', ?)", arguments: [revision])
            revisions.withLock { $0.compacted = max($0.compacted, revision) }
        }
    }
}
