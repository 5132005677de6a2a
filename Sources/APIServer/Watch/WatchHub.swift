import KubeModel
import Synchronization

/// The watch cache: a ring of the newest committed events and the live watchers they fan out
/// to. Publishing and subscribing take one lock, so a new watcher's replay and its live events
/// never overlap or leave a gap. The ring is bounded by events and by bytes, whichever comes
/// first, so large objects shorten the history instead of growing memory. A watcher whose
/// backlog fills is cut off and marked as fallen behind (its client gets 410 Expired and
/// re-lists), so one slow reader never slows writes or other readers.
public final class WatchHub: Sendable {
    struct Watcher {
        var prefix: String
        /// Revision the watcher starts after. A list can read a committed revision from the
        /// database before the writer has published it here; a watch from that revision must
        /// not receive it again when it is published.
        var after: Int64
        var continuation: AsyncStream<WatchItem>.Continuation
        var fellBehind: FellBehindFlag
    }

    /// Set when the hub cuts a watcher off for a full backlog; read by the watch's consumer.
    final class FellBehindFlag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    struct Observer {
        var prefix: String
        var apply: @Sendable (ObservedChange) -> Void
    }

    struct State {
        var ring: [CachedEvent?]
        var head = 0  // index of the oldest event
        var count = 0
        /// Sum of the `size` of the events in the ring.
        var bytes = 0
        var lastRevision: Int64
        /// Newest revision known to be gone from the ring (or compacted before start).
        var compactedRevision: Int64
        var watchers: [Int: Watcher] = [:]
        var observers: [Int: Observer] = [:]
        var nextID = 0
        /// The newest object the ring holds for each key: an update's `prevObject` is that
        /// same object, so the ring keeps one copy of its bytes, not two.
        var newest: [String: (revision: Int64, object: [UInt8])] = [:]
    }

    private let state: Mutex<State>
    public let capacity: Int
    public let maxBytes: Int
    let bufferLimit: Int

    /// - Parameters:
    ///   - capacity: events kept for resuming watches (`--watch-cache-size`).
    ///   - maxBytes: serialized bytes those events may hold (`--watch-cache-bytes`); the
    ///     newest event is kept even when it alone is larger.
    ///   - lastRevision: the store's newest revision at start.
    ///   - compactedRevision: newest revision not available for replay.
    ///   - perWatcherBuffer: events one watcher may have queued before it is cut off.
    public init(capacity: Int, maxBytes: Int = WatchHub.defaultMaxBytes, lastRevision: Int64, compactedRevision: Int64,
                perWatcherBuffer: Int = 10_000) {
        self.capacity = max(1, capacity)
        self.maxBytes = max(1, maxBytes)
        self.bufferLimit = perWatcherBuffer
        state = Mutex(State(ring: Array(repeating: nil, count: max(1, capacity)), lastRevision: lastRevision,
                            compactedRevision: compactedRevision))
    }

    /// Seeds the ring with events recovered from disk at start, oldest first.
    public func preload(_ events: [StoreEvent]) {
        let bytes = events.map(Self.bytes)
        state.withLock { s in
            for (e, b) in zip(events, bytes) { Self.append(e, b, to: &s, capacity: capacity, maxBytes: maxBytes) }
        }
    }

    /// The event's object as the store wrote it, or serialized now (outside the lock).
    private static func bytes(_ e: StoreEvent) -> [UInt8] { e.serialized ?? JSONWriter.kubernetesBytes(e.object) }

    public var lastRevision: Int64 { state.withLock { $0.lastRevision } }
    public var compactedRevision: Int64 { state.withLock { $0.compactedRevision } }
    public var watcherCount: Int { state.withLock { $0.watchers.count } }
    public var observerCount: Int { state.withLock { $0.observers.count } }
    /// Events and serialized bytes the ring holds now.
    public var usage: (events: Int, bytes: Int) { state.withLock { ($0.count, $0.bytes) } }

    /// 64 MiB of serialized objects: about twice that once parsed.
    public static let defaultMaxBytes = 64 << 20

    /// Delivers committed events, in revision order, to the ring and every matching watcher.
    public func publish(_ events: [StoreEvent]) {
        let bytes = events.map(Self.bytes)
        state.withLock { s in
            for (e, b) in zip(events, bytes) {
                Self.append(e, b, to: &s, capacity: capacity, maxBytes: maxBytes)
                for (_, o) in s.observers where e.key.hasPrefix(o.prefix) { o.apply(.event(e)) }
                var delivered = e
                delivered.serialized = nil
                var dropped: [Int] = []
                for (id, w) in s.watchers where e.revision > w.after && e.key.hasPrefix(w.prefix) {
                    if delivered.encodings == nil { delivered.encodings = WatchEventEncodings(storedObject: b) }
                    if case .dropped = w.continuation.yield(.event(delivered)) { dropped.append(id) }
                }
                for id in dropped {
                    guard let w = s.watchers.removeValue(forKey: id) else { continue }
                    w.fellBehind.set()
                    w.continuation.finish()
                }
            }
        }
    }

    /// Calls `apply` with every event under `prefix` published from now on, inside `publish`
    /// (for a store that publishes on commit: before the write returns to its caller), and
    /// and the revision after which it sees every event. `apply` must be quick and must not
    /// call into the hub. A reset or shutdown sends `.reset` and ends the observation.
    public func observe(prefix: String, _ apply: @escaping @Sendable (ObservedChange) -> Void) -> StoreObservation {
        let (id, revision) = state.withLock { s in
            s.observers[s.nextID] = Observer(prefix: prefix, apply: apply)
            s.nextID += 1
            return (s.nextID - 1, s.lastRevision)
        }
        return StoreObservation(revision: revision, cancel: { [weak self] in
            self?.state.withLock { _ = $0.observers.removeValue(forKey: id) }
        })
    }

    private static func resetObservers(_ s: inout State) {
        for (_, o) in s.observers { o.apply(.reset) }
        s.observers.removeAll()
    }

    /// Tells every watcher that all events up to the newest revision have been sent.
    public func broadcastProgress() {
        state.withLock { s in
            // Never older than where the watcher started: its client resumes from a bookmark.
            for (_, w) in s.watchers { w.continuation.yield(.progress(max(s.lastRevision, w.after))) }
        }
    }

    /// Records that every event up to `revision` has been published, though none may have
    /// been for the hub's prefixes (an external store's progress notification): watches from
    /// now start there, and progress marks carry it.
    public func advance(to revision: Int64) {
        state.withLock { s in s.lastRevision = max(s.lastRevision, revision) }
    }

    /// Forgets the history when the events before `revision` can no longer be replayed into
    /// the hub (an external store compacted them while its feed was away): every watcher is
    /// cut off as fallen behind, so its client lists again, and nothing older is served.
    public func reset(at revision: Int64) {
        state.withLock { s in
            for (_, w) in s.watchers {
                w.fellBehind.set()
                w.continuation.finish()
            }
            s.watchers.removeAll()
            Self.resetObservers(&s)
            s.ring = Array(repeating: nil, count: capacity)
            s.newest.removeAll()
            s.head = 0
            s.count = 0
            s.bytes = 0
            s.lastRevision = max(s.lastRevision, revision)
            s.compactedRevision = s.lastRevision
        }
    }

    private static func append(_ e: StoreEvent, _ bytes: [UInt8], to s: inout State, capacity: Int, maxBytes: Int) {
        while s.count > 0 && (s.count == capacity || s.bytes + e.size > maxBytes) { dropOldest(&s, capacity: capacity) }
        var prev: [UInt8]?
        if let p = e.prevObject {
            if let newest = s.newest[e.key], p.resourceVersion == String(newest.revision) {
                prev = newest.object
            } else {
                prev = JSONWriter.kubernetesBytes(p)
            }
        }
        s.newest[e.key] = e.kind == .deleted ? nil : (e.revision, bytes)
        s.ring[(s.head + s.count) % capacity] = CachedEvent(kind: e.kind, key: e.key, revision: e.revision, size: e.size,
                                                            object: bytes, prevObject: prev)
        s.count += 1
        s.bytes += e.size
        s.lastRevision = max(s.lastRevision, e.revision)
    }

    private static func dropOldest(_ s: inout State, capacity: Int) {
        if let oldest = s.ring[s.head] {
            s.compactedRevision = max(s.compactedRevision, oldest.revision)
            s.bytes -= oldest.size
            if s.newest[oldest.key]?.revision == oldest.revision { s.newest[oldest.key] = nil }
        }
        s.ring[s.head] = nil
        s.head = (s.head + 1) % capacity
        s.count -= 1
    }

    /// Subscribes to events under `prefix` after revision `after`: replays what the ring holds,
    /// then streams live events. Throws `compacted` if events after `after` are gone.
    public func subscribe(prefix: String, after: Int64) throws(StoreError) -> WatchSubscription {
        let flag = FellBehindFlag()
        let result: Result<(Int, ReplayThenLive, AsyncStream<WatchItem>.Continuation), StoreError> = state.withLock { s in
            if after < s.compactedRevision {
                return .failure(StoreError.compacted(requested: after, oldest: s.compactedRevision + 1))
            }
            var replay: [CachedEvent] = []
            for i in 0..<s.count {
                if let e = s.ring[(s.head + i) % capacity], e.revision > after, e.key.hasPrefix(prefix) { replay.append(e) }
            }
            // Live events queue behind the replay, which is parsed as the watcher pulls it.
            let (stream, continuation) = AsyncStream<WatchItem>.makeStream(bufferingPolicy: .bufferingOldest(replay.count + bufferLimit))
            let id = s.nextID
            s.nextID += 1
            s.watchers[id] = Watcher(prefix: prefix, after: after, continuation: continuation, fellBehind: flag)
            return .success((id, ReplayThenLive(replay: replay, live: stream), continuation))
        }
        let (id, items, continuation) = try result.get()
        var sub = subscription(id: id, stream: items.stream, continuation: continuation, flag: flag)
        let cancel = sub.cancel
        sub.cancel = {
            items.cancel()
            cancel()
        }
        return sub
    }

    private func subscription(id: Int, stream: AsyncStream<WatchItem>, continuation: AsyncStream<WatchItem>.Continuation,
                              flag: FellBehindFlag) -> WatchSubscription {
        WatchSubscription(items: stream, cancel: { [weak self] in
            self?.state.withLock { s in _ = s.watchers.removeValue(forKey: id) }
            continuation.finish()
        }, fellBehind: { flag.isSet })
    }

    /// Subscribes to live events only, returning the revision they start after.
    public func subscribeNow(prefix: String) -> (WatchSubscription, Int64) {
        let (stream, continuation) = AsyncStream<WatchItem>.makeStream(bufferingPolicy: .bufferingOldest(bufferLimit))
        let flag = FellBehindFlag()
        let (id, revision) = state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.watchers[id] = Watcher(prefix: prefix, after: s.lastRevision, continuation: continuation, fellBehind: flag)
            return (id, s.lastRevision)
        }
        return (subscription(id: id, stream: stream, continuation: continuation, flag: flag), revision)
    }

    /// Closes every watcher (server shutdown).
    public func closeAll() {
        state.withLock { s in
            for (_, w) in s.watchers { w.continuation.finish() }
            s.watchers.removeAll()
            Self.resetObservers(&s)
        }
    }
}
