import KubeModel
import Synchronization

/// An event as the watch cache keeps it: serialized, so ten thousand events hold their JSON
/// and not parsed trees several times that size. A watch that replays it parses it again.
struct CachedEvent: Sendable {
    var kind: StoreEvent.Kind
    var key: String
    var revision: Int64
    var size: Int
    var object: [UInt8]
    /// Shared with the object bytes of the key's previous event when the ring holds it.
    var prevObject: [UInt8]?

    /// The event again, or nil if its bytes do not parse (they were written by the server).
    func event() -> StoreEvent? {
        guard let object = try? JSONParser.parse(self.object) else { return nil }
        return StoreEvent(kind: kind, key: key, revision: revision, object: object,
                          prevObject: prevObject.flatMap { try? JSONParser.parse($0) }, size: size)
    }
}

/// A watch's items: the replayed events, parsed one at a time as the consumer pulls them
/// (outside the watch cache's lock), then the live stream. Pulled by exactly one consumer
/// (`AsyncStream(unfolding:)` never calls concurrently); `cancel` may come from anywhere.
final class ReplayThenLive: @unchecked Sendable {
    private var replay: [CachedEvent]
    private var index = 0
    private var live: AsyncStream<WatchItem>.AsyncIterator
    private let cancelled = Atomic<Bool>(false)

    init(replay: [CachedEvent], live: AsyncStream<WatchItem>) {
        self.replay = replay
        self.live = live.makeAsyncIterator()
    }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    func next() async -> WatchItem? {
        while index < replay.count {
            if cancelled.load(ordering: .relaxed) { return nil }
            let cached = replay[index]
            index += 1
            if index == replay.count { replay = [] }
            if let event = cached.event() { return .event(event) }
        }
        return await live.next()
    }

    var stream: AsyncStream<WatchItem> { AsyncStream(unfolding: { await self.next() }) }
}
