import KubeModel

/// What one probe attempt changed.
public struct ProbeUpdate: Sendable, Equatable {
    public var kind: ProbeKind
    public var attempt: ProbeResult
    /// The thresholded state after this attempt. Readiness: Ready. Liveness: not yet failed
    /// (true until `failureThreshold` consecutive failures). Startup: started (false until the
    /// first success).
    public var healthy: Bool
    /// The thresholded state changed with this attempt. For startup this is also true when
    /// `failureThreshold` consecutive failures decide that it failed, although `healthy` stays
    /// false: `changed && !healthy` means kill the container for liveness and startup alike.
    public var changed: Bool

    public init(kind: ProbeKind, attempt: ProbeResult, healthy: Bool, changed: Bool) {
        self.kind = kind
        self.attempt = attempt
        self.healthy = healthy
        self.changed = changed
    }
}

/// Turns attempts into thresholded state; separate from the timing so it can be tested alone.
public struct ProbeThresholds: Sendable {
    public let kind: ProbeKind
    public let successThreshold: Int
    public let failureThreshold: Int
    /// nil while undecided (startup before its first result, liveness before any failure run).
    private var state: Bool?
    private var successRun = 0
    private var failureRun = 0

    public init(kind: ProbeKind, successThreshold: Int, failureThreshold: Int) {
        self.kind = kind
        self.successThreshold = max(successThreshold, 1)
        self.failureThreshold = max(failureThreshold, 1)
        // Readiness is decided (not ready) from the start; the others wait for evidence.
        state = kind == .readiness ? false : nil
    }

    /// What is reported while undecided.
    private var undecidedHealthy: Bool { kind == .liveness }

    public var healthy: Bool { state ?? undecidedHealthy }

    public mutating func record(_ attempt: ProbeResult) -> ProbeUpdate {
        let before = state
        if attempt.isSuccess {
            successRun += 1
            failureRun = 0
            if successRun >= successThreshold { state = true }
        } else {
            failureRun += 1
            successRun = 0
            if failureRun >= failureThreshold { state = false }
        }
        let changed: Bool
        switch kind {
        case .startup: changed = before != state
        case .liveness, .readiness: changed = (before ?? undecidedHealthy) != (state ?? undecidedHealthy)
        }
        return ProbeUpdate(kind: kind, attempt: attempt, healthy: healthy, changed: changed)
    }
}

/// One periodic probe of one container. Runs until its task is cancelled; a startup worker
/// also returns once the container has started (startup probes stop after their first success).
public struct ProbeWorker: Sendable {
    public let kind: ProbeKind
    public let probe: JSONValue
    public let target: ProbeTarget
    private let onUpdate: @Sendable (ProbeUpdate) async -> Void

    public init(kind: ProbeKind, probe: JSONValue, target: ProbeTarget,
                onUpdate: @escaping @Sendable (ProbeUpdate) async -> Void) {
        self.kind = kind
        self.probe = probe
        self.target = target
        self.onUpdate = onUpdate
    }

    public func run() async {
        let spec = ProbeSpec(probe, kind: kind)
        var thresholds = ProbeThresholds(kind: kind, successThreshold: spec.successThreshold,
                                         failureThreshold: spec.failureThreshold)
        do {
            try await Task.sleep(for: spec.initialDelay)
            while !Task.isCancelled {
                let attempt = await Prober.run(probe, target: target)
                // A result that finished after cancellation belongs to a container being torn
                // down; reporting it could kill or unready its successor.
                if Task.isCancelled { return }
                let update = thresholds.record(attempt)
                await onUpdate(update)
                if kind == .startup && update.healthy { return }
                try await Task.sleep(for: spec.period)
            }
        } catch {
            return  // cancelled while sleeping
        }
    }
}
