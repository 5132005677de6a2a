import Synchronization

/// The encoded watch lines of one committed event, created when the event is published and
/// shared by every watcher it reaches: a thousand watchers of the same kind and version cost
/// one serialization, not a thousand. Dropped with the last watcher done with the event; the
/// watch cache keeps events without it, so its memory stays bounded by the cache's own limits.
public final class WatchEventEncodings: Sendable {
    private let lines = Mutex<[String: [UInt8]]>([:])
    /// The event's object as the store wrote it: a watcher of the storage version wraps these
    /// bytes in its line instead of serializing the object.
    public let storedObject: [UInt8]?

    public init(storedObject: [UInt8]? = nil) {
        self.storedObject = storedObject
    }

    /// The line stored under `key` (event type, API version and response shape), encoded by
    /// `encode` the first time it is asked for.
    public func line(_ key: String, encode: () -> [UInt8]) -> [UInt8] {
        if let line = lines.withLock({ $0[key] }) { return line }
        // Encoded outside the lock: two first readers may both encode; either result is the same.
        let line = encode()
        lines.withLock { $0[key] = $0[key] ?? line }
        return line
    }

    var count: Int { lines.withLock { $0.count } }
}
