/// When a failed request is tried again, as client-go does: a 429, or a 5xx that carries a
/// `Retry-After` header, is the server asking the client to come back later. The wait is the
/// header's seconds (capped), spread by up to `jitterFraction` more so that thousands of clients
/// turned away in the same instant (a fleet of kubelets starting) do not all return together.
public struct RetryAfterPolicy: Sendable, Equatable {
    /// Retries per request before the error is thrown (client-go: 10).
    public var maxRetries: Int
    /// The longest wait honoured; a larger Retry-After is cut to this.
    public var maxDelaySeconds: Int
    /// Extra random wait, as a fraction of the delay (0 adds none).
    public var jitterFraction: Double

    public init(maxRetries: Int = 10, maxDelaySeconds: Int = 10, jitterFraction: Double = 0.5) {
        self.maxRetries = maxRetries
        self.maxDelaySeconds = maxDelaySeconds
        self.jitterFraction = jitterFraction
    }

    /// Never retries: every 429 reaches the caller.
    public static let none = RetryAfterPolicy(maxRetries: 0)

    /// The wait before retry number `attempt` (1-based) of an answer with `status` and
    /// `retryAfter` (the header's value, if any); nil when the answer is final. `random` is a
    /// number in 0..<1 (injected so tests are exact).
    public func delay(status: Int, retryAfter: String?, attempt: Int, random: Double) -> Duration? {
        guard attempt <= maxRetries, status == 429 || status >= 500 else { return nil }
        // Only delta-seconds are accepted; an HTTP date or garbage means the server made no promise.
        guard let header = retryAfter?.filter({ $0 != " " }), let seconds = Int(header), seconds >= 0 else {
            return nil
        }
        let base = Double(min(seconds, maxDelaySeconds))
        // A zero Retry-After still waits a little: an immediate retry meets the same full pool.
        let floor = base == 0 ? 0.05 : base
        let jitter = floor * jitterFraction * min(max(random, 0), 1)
        return .milliseconds(Int64((floor + jitter) * 1000))
    }
}
