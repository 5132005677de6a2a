import Synchronization

/// Kubelet's PLEG health in miniature: the runtime's containers are relisted (and the pod
/// workers asked) every `period`; once the last relist that completed is older than
/// `threshold` (3 minutes, as kubelet's), the node is not Ready. A runtime or a pod-workers
/// actor that hangs stops relists, so it shows here.
public final class PodLifecycleMonitor<C: Clock>: Sendable where C.Duration == Duration {
    let clock: C
    let threshold: Duration
    private let lastActive: Mutex<C.Instant>

    public init(clock: C, threshold: Duration = .seconds(180)) {
        self.clock = clock
        self.threshold = threshold
        lastActive = Mutex(clock.now)
    }

    /// Records a completed relist.
    public func relisted() { lastActive.withLock { $0 = clock.now } }

    /// Kubelet's message when relists are overdue; nil while healthy.
    public func problem() -> String? {
        let age = lastActive.withLock { $0 }.duration(to: clock.now)
        guard age > threshold else { return nil }
        return "PLEG is not healthy: pleg was last seen active \(Self.goDuration(age)) ago; threshold is \(Self.goDuration(threshold))"
    }

    /// Relists every `period` until cancelled.
    public func run(period: Duration, relist: @Sendable () async -> Void) async {
        while !Task.isCancelled {
            await relist()
            relisted()
            do { try await clock.sleep(for: period) } catch { return }
        }
    }

    /// Whole seconds the way Go prints a duration (`3m0s`, `1h2m3s`, `45s`).
    static func goDuration(_ d: Duration) -> String {
        let total = max(0, d.components.seconds)
        let h = total / 3600, m = total % 3600 / 60, s = total % 60
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }
}
