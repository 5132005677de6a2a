import Synchronization

/// Caps concurrently executing requests as kube-apiserver's `--max-requests-inflight` (read-only)
/// and `--max-mutating-requests-inflight` (writes) do, and open watches per user. Watches are
/// long-running, so they count only against the per-user cap, never against the in-flight pools.
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

    struct State {
        var readOnly = 0
        var mutating = 0
        var watches: [String: Int] = [:]
    }

    /// Limits; zero or less means unlimited, as in Kubernetes.
    public let maxReadOnly: Int
    public let maxMutating: Int
    public let maxWatchesPerUser: Int
    private let state = Mutex(State())

    /// A limiter with the given caps (kube's defaults: 400, 200; watches per user: 1000).
    public init(maxReadOnly: Int = 400, maxMutating: Int = 200, maxWatchesPerUser: Int = 1000) {
        self.maxReadOnly = maxReadOnly
        self.maxMutating = maxMutating
        self.maxWatchesPerUser = maxWatchesPerUser
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

    /// Gives back a slot taken by `acquire`.
    public func release(_ kind: Kind) {
        state.withLock { s in
            switch kind {
            case .readOnly: s.readOnly = max(0, s.readOnly - 1)
            case .mutating: s.mutating = max(0, s.mutating - 1)
            }
        }
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
