import NIOCore

/// At most `limit` bodies run at once; the others wait their turn in arrival order. Fake nodes
/// register through one gate, so thousands of them starting together send a bounded number of
/// writes to the API server instead of a burst its in-flight limits refuse.
public actor ConcurrencyGate {
    public nonisolated let limit: Int
    private var running = 0
    private var waiters = CircularBuffer<CheckedContinuation<Void, Never>>()

    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs `body` once a slot is free. A task cancelled while waiting still takes its turn and
    /// then finds itself cancelled at once, so the queue drains on shutdown.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    /// Bodies running now and waiting (for tests).
    public var load: (running: Int, waiting: Int) { (running, waiters.count) }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            // The slot passes straight to the next waiter: `running` stays as it is.
            waiters.removeFirst().resume()
        }
    }
}

extension Optional where Wrapped == ConcurrencyGate {
    /// Runs `body` through the gate a fleet shares, or at once for a node of its own.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if let gate = self { return try await gate.run(body) }
        return try await body()
    }
}
