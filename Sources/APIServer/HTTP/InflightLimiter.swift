import Synchronization

/// Caps concurrently executing requests as kube-apiserver's `--max-requests-inflight` (read-only)
/// and `--max-mutating-requests-inflight` (writes) do, and open watches per user. Watches are
/// long-running, so they count only against the per-user cap, never against the in-flight pools.
///
/// A request that finds its pool full waits in line for a slot, as Kubernetes' priority and
/// fairness queues requests instead of refusing them: a burst (a ReplicaSet's batch of
/// creates, a fleet's status writes) is absorbed rather than answered 429 and sent again a
/// second later. The line holds as many requests as the pool, first come first served; past
/// it, or after `queueWait` in it, the answer is 429.
public final class InflightLimiter: Sendable {
    /// Which pool a request draws from.
    public enum Kind: Sendable, Equatable {
        case readOnly
        case mutating

        /// POST, PUT, PATCH and DELETE mutate; everything else reads.
        public init(method: String) {
            self = ["POST", "PUT", "PATCH", "DELETE"].contains(method) ? .mutating : .readOnly
        }
    }

    struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    /// Requests waiting for one pool's slots, first come first served.
    struct WaitLine {
        private var waiters: [Waiter] = []
        private var head = 0

        var count: Int { waiters.count - head }

        mutating func append(_ waiter: Waiter) { waiters.append(waiter) }

        mutating func popFirst() -> Waiter? {
            guard head < waiters.count else { return nil }
            let first = waiters[head]
            head += 1
            // Served waiters leave the array once they are half of it.
            if head == waiters.count {
                waiters.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64 && head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            return first
        }

        mutating func remove(id: UInt64) -> Waiter? {
            guard let i = waiters[head...].firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: i)
        }
    }

    struct State {
        var readOnly = 0
        var mutating = 0
        var watches: [String: Int] = [:]
        var nextWaiter: UInt64 = 0
        /// Waiters neither served nor refused yet.
        var pending: Set<UInt64> = []
        var readOnlyLine = WaitLine()
        var mutatingLine = WaitLine()

        /// The executing count and the line of `kind`'s pool.
        static func slots(_ kind: Kind) -> WritableKeyPath<State, Int> { kind == .readOnly ? \.readOnly : \.mutating }
        static func line(_ kind: Kind) -> WritableKeyPath<State, WaitLine> { kind == .readOnly ? \.readOnlyLine : \.mutatingLine }
    }

    /// Limits; zero or less means unlimited, as in Kubernetes.
    public let maxReadOnly: Int
    public let maxMutating: Int
    public let maxWatchesPerUser: Int
    /// How long a request waits in line for a slot before it is answered 429 (zero: no line).
    public let queueWait: Duration
    private let state = Mutex(State())

    /// A limiter with the given caps (kube's defaults: 400, 200; watches per user: 1000).
    public init(maxReadOnly: Int = 400, maxMutating: Int = 200, maxWatchesPerUser: Int = 1000,
                queueWait: Duration = .seconds(5)) {
        self.maxReadOnly = maxReadOnly
        self.maxMutating = maxMutating
        self.maxWatchesPerUser = maxWatchesPerUser
        self.queueWait = queueWait
    }

    /// Takes a slot of `kind`'s pool, waiting in line for one when the pool is full; false
    /// when the line is full too, after `queueWait`, or when the request is cancelled.
    public func acquireWaiting(_ kind: Kind) async -> Bool {
        if acquire(kind) { return true }
        guard queueWait > .zero else { return false }
        // Registered before either child runs, so an expiry that comes before the waiter is
        // in line still refuses it.
        let id = state.withLock { s in
            s.nextWaiter += 1
            s.pending.insert(s.nextWaiter)
            return s.nextWaiter
        }
        let wait = queueWait
        return await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in self.enqueue(id, kind, continuation) }
            }
            group.addTask {
                // Ends the wait after `queueWait`, or at once when the request is cancelled.
                try? await Task.sleep(for: wait)
                self.expire(id, kind)
                return nil
            }
            // The waiter's own answer decides: it is true only if a slot was handed over.
            var granted = false
            for await answer in group {
                guard let answer else { continue }
                granted = answer
                group.cancelAll()
            }
            return granted
        }
    }

    private func enqueue(_ id: UInt64, _ kind: Kind, _ continuation: CheckedContinuation<Bool, Never>) {
        let limit = kind == .readOnly ? maxReadOnly : maxMutating
        let answer: Bool? = state.withLock { s in
            guard s.pending.contains(id) else { return false }  // expired before it got in line
            if s[keyPath: State.slots(kind)] < limit {
                // A slot came free since the first try.
                s.pending.remove(id)
                s[keyPath: State.slots(kind)] += 1
                return true
            }
            guard s[keyPath: State.line(kind)].count < limit else {
                s.pending.remove(id)
                return false
            }
            s[keyPath: State.line(kind)].append(Waiter(id: id, continuation: continuation))
            return nil
        }
        if let answer { continuation.resume(returning: answer) }
    }

    /// Refuses waiter `id` unless it was served already; one not yet in line is refused when
    /// it gets there.
    private func expire(_ id: UInt64, _ kind: Kind) {
        let waiter: Waiter? = state.withLock { s in
            guard s.pending.remove(id) != nil else { return nil }
            return s[keyPath: State.line(kind)].remove(id: id)
        }
        waiter?.continuation.resume(returning: false)
    }

    /// Takes a slot of `kind`'s pool; false when the pool is full (answer 429).
    public func acquire(_ kind: Kind) -> Bool {
        state.withLock { s in
            switch kind {
            case .readOnly:
                guard maxReadOnly <= 0 || s.readOnly < maxReadOnly else { return false }
                s.readOnly += 1
            case .mutating:
                guard maxMutating <= 0 || s.mutating < maxMutating else { return false }
                s.mutating += 1
            }
            return true
        }
    }

    /// Gives back a slot taken by `acquire`: to the first request in line, if any.
    public func release(_ kind: Kind) {
        let next: Waiter? = state.withLock { s in
            if let next = s[keyPath: State.line(kind)].popFirst() {
                // The slot passes straight to the waiter: the count stays.
                s.pending.remove(next.id)
                return next
            }
            s[keyPath: State.slots(kind)] = max(0, s[keyPath: State.slots(kind)] - 1)
            return nil
        }
        next?.continuation.resume(returning: true)
    }

    /// Opens a watch for `user`; false when they already hold `maxWatchesPerUser`.
    public func acquireWatch(user: String) -> Bool {
        state.withLock { s in
            let open = s.watches[user, default: 0]
            guard maxWatchesPerUser <= 0 || open < maxWatchesPerUser else { return false }
            s.watches[user] = open + 1
            return true
        }
    }

    /// Closes a watch opened by `acquireWatch`.
    public func releaseWatch(user: String) {
        state.withLock { s in
            let open = s.watches[user, default: 0] - 1
            s.watches[user] = open > 0 ? open : nil
        }
    }

    /// Requests executing now, per pool, and watches open for `user` (for tests and metrics).
    public func inflight(_ kind: Kind) -> Int { state.withLock { kind == .readOnly ? $0.readOnly : $0.mutating } }
    /// Requests waiting in line for `kind`'s pool (for tests and metrics).
    public func waiting(_ kind: Kind) -> Int { state.withLock { $0[keyPath: State.line(kind)].count } }
    public func openWatches(user: String) -> Int { state.withLock { $0.watches[user, default: 0] } }

    /// kube-apiserver's answer when a pool is full: 429 with `Retry-After: 1`.
    public static func tooManyRequests() -> APIError {
        var e = APIError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                         details: ["retryAfterSeconds": 1])
        e.headers = [("Retry-After", "1")]
        return e
    }
}

/// Holds one open watch of a user and gives it back when the watch's response body is released,
/// whether the stream ended, failed or was never written.
final class WatchSlot: Sendable {
    let limiter: InflightLimiter
    let user: String

    init(limiter: InflightLimiter, user: String) {
        self.limiter = limiter
        self.user = user
    }

    deinit { limiter.releaseWatch(user: user) }
}
