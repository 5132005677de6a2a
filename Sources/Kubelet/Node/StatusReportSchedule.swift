/// When a kubelet that checks its node every `statusInterval` actually writes the status, as
/// Kubernetes' `nodeStatusReportFrequency`: at once when the conditions it owns changed,
/// otherwise only once `reportInterval` has passed since the last write (the Lease says
/// "alive" in between). Without a report interval every check writes.
struct StatusReportSchedule: Sendable {
    /// What decides a write: each owned condition's type, status, reason and message.
    typealias Signature = [String]

    let reportInterval: Duration?
    private var lastSignature: Signature?
    private var lastWrite: ContinuousClock.Instant?

    init(reportInterval: Duration?) {
        self.reportInterval = reportInterval
    }

    /// Whether a check at `now` whose conditions read `signature` must write the status.
    func isDue(_ signature: Signature, now: ContinuousClock.Instant) -> Bool {
        guard let reportInterval, let lastSignature, let lastWrite else { return true }
        return signature != lastSignature || now - lastWrite >= reportInterval
    }

    /// Records a successful write.
    mutating func wrote(_ signature: Signature, at now: ContinuousClock.Instant) {
        lastSignature = signature
        lastWrite = now
    }

    /// The signature of desired conditions (`NodeConditions.desired`).
    static func signature(_ conditions: [NodeConditions.Desired]) -> Signature {
        conditions.map { "\($0.type)|\($0.status)|\($0.reason)|\($0.message)" }
    }
}
