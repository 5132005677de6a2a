import Foundation
import KubeModel

/// What the kubelet tracks for one container of a pod between syncs: the attempt it runs,
/// the restart gate, the probe states, and the `containerStatuses[]` entry it reports.
struct ContainerSlot: Sendable {
    let name: String
    let isInit: Bool
    /// The container spec, as of the pod the worker last saw.
    var spec: JSONValue

    /// The attempt running or last run (its number is the restart count); nil before the first.
    var current: ContainerID?
    /// Consecutive syncs in which the runtime had no record of `current`.
    var missedLooks = 0
    /// The attempt number the next start uses.
    var nextAttempt = 0
    /// The last observed runtime state of `current`.
    var runtimeState: ContainerRuntimeState?
    /// Set while the container may not be (re)started: `CrashLoopBackOff` or a config error.
    var waiting: (reason: String, message: String)?
    /// No start before this instant (crash-loop back-off).
    var notBefore: ContinuousClock.Instant?
    var backoff = CrashLoopBackoff()
    /// Image pull back-off (10 s doubling to 5 min), reset by a successful pull.
    var imageBackoff = CrashLoopBackoff()
    /// The previous attempt's end, for `lastState`.
    var lastTerminated: JSONValue?

    /// Thresholded probe states; nil when the container has no such probe.
    var startupSucceeded = false
    var livenessHealthy = true
    var readinessHealthy = false
    /// Running probe loops of the current attempt.
    var probeTasks: [Task<Void, Never>] = []
    /// Set when the kubelet itself stopped the attempt (liveness/startup failure), so the exit
    /// is not mistaken for a crash reason of its own.
    var killedByKubelet: String?

    init(name: String, isInit: Bool, spec: JSONValue) {
        self.name = name
        self.isInit = isInit
        self.spec = spec
    }

    var restartCount: Int { current?.attempt ?? 0 }
    var hasStartupProbe: Bool { spec["startupProbe"]?.objectValue != nil }
    var hasReadinessProbe: Bool { spec["readinessProbe"]?.objectValue != nil }

    var isRunning: Bool {
        if case .running = runtimeState { return true }
        return false
    }

    /// The exit of the current attempt, if it ended.
    var exit: (code: Int32, reason: String)? {
        if case .exited(let code, _, let reason, _, _) = runtimeState { return (code, reason) }
        return nil
    }

    /// `started` as Kubernetes reports it: running and past its startup probe.
    var started: Bool { isRunning && (!hasStartupProbe || startupSucceeded) }

    /// `ready`: started and passing readiness (no readiness probe: ready once started).
    var ready: Bool { started && (!hasReadinessProbe || readinessHealthy) }

    /// Everything `status(image:)` reads that changes between syncs (name, kind and spec come
    /// with the pod): equal keys give equal entries.
    struct StatusKey: Equatable {
        var current: ContainerID?
        var runtimeState: ContainerRuntimeState?
        var waitingReason: String?
        var waitingMessage: String?
        var startupSucceeded: Bool
        var readinessHealthy: Bool
        var lastTerminated: JSONValue?
    }

    var statusKey: StatusKey {
        StatusKey(current: current, runtimeState: runtimeState, waitingReason: waiting?.reason, waitingMessage: waiting?.message,
                  startupSucceeded: startupSucceeded, readinessHealthy: readinessHealthy, lastTerminated: lastTerminated)
    }

    /// The `containerStatuses[]` entry.
    func status(image: String) -> JSONValue {
        var s: JSONValue = [
            "name": .string(name), "image": .string(image), "imageID": .string("caravel://image/" + image),
            "ready": .bool(isInit ? (exit?.code == 0) : ready), "restartCount": .int(Int64(restartCount)),
            "started": .bool(started), "state": state(),
        ]
        if let current { s["containerID"] = .string(current.description) }
        s["lastState"] = lastTerminated.map { ["terminated": $0] } ?? .object([:])
        return s
    }

    func state() -> JSONValue {
        if let waiting {
            return ["waiting": ["reason": .string(waiting.reason), "message": .string(waiting.message)]]
        }
        switch runtimeState {
        case .running(let startedAt)?:
            return ["running": ["startedAt": .string(Timestamp.format(startedAt))]]
        case .exited?:
            return ["terminated": terminated() ?? .object([:])]
        case nil:
            return ["waiting": ["reason": "ContainerCreating"]]
        }
    }

    /// The `terminated` state of the current attempt, if it ended.
    func terminated() -> JSONValue? {
        guard case .exited(let code, let signal, let reason, let startedAt, let finishedAt)? = runtimeState else { return nil }
        var t: JSONValue = [
            "exitCode": .int(Int64(code)), "reason": .string(reason),
            "startedAt": .string(Timestamp.format(startedAt)), "finishedAt": .string(Timestamp.format(finishedAt)),
        ]
        if let signal { t["signal"] = .int(Int64(signal)) }
        if let current { t["containerID"] = .string(current.description) }
        return t
    }
}
