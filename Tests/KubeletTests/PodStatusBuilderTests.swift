import Foundation
import KubeModel
import Testing
@testable import Kubelet

@Suite struct PodStatusBuilderTests {
    static func pod(restartPolicy: String = "Always", initContainers: [String] = [], containers: [String] = ["app"]) -> JSONValue {
        [
            "metadata": ["name": "p", "namespace": "default", "uid": "u1"],
            "spec": [
                "restartPolicy": .string(restartPolicy),
                "initContainers": .array(initContainers.map { ["name": .string($0), "image": "busybox"] }),
                "containers": .array(containers.map { ["name": .string($0), "image": "busybox"] }),
            ],
        ]
    }

    static func slot(_ name: String, isInit: Bool = false, state: ContainerRuntimeState?, attempt: Int = 0) -> ContainerSlot {
        var s = ContainerSlot(name: name, isInit: isInit, spec: ["name": .string(name), "image": "busybox"])
        if let state {
            s.current = ContainerID(podUID: "u1", name: name, attempt: attempt)
            s.runtimeState = state
        }
        return s
    }

    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    func builder(_ pod: JSONValue, _ initSlots: [ContainerSlot] = [], _ appSlots: [ContainerSlot]) -> PodStatusBuilder {
        PodStatusBuilder(pod: pod, initSlots: initSlots, appSlots: appSlots, hostIP: "10.0.0.1", podIP: "10.244.0.5", sandboxReady: true)
    }

    @Test func pendingUntilEveryContainerRan() {
        let b = builder(Self.pod(containers: ["a", "b"]), [], [Self.slot("a", state: .running(startedAt: Self.t0)), Self.slot("b", state: nil)])
        #expect(b.phase == "Pending")
        let status = b.build(previous: nil)
        let ready = status["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
        #expect(ready?["status"] == "False")
        #expect(ready?["message"] == "containers with unready status: [b]")
        #expect(status["podIP"] == "10.244.0.5")
    }

    @Test func runningAndReadyWithoutProbes() {
        let b = builder(Self.pod(), [], [Self.slot("app", state: .running(startedAt: Self.t0))])
        #expect(b.phase == "Running")
        let status = b.build(previous: nil)
        let ready = status["conditions"]?.arrayValue?.first { $0["type"] == "Ready" }
        #expect(ready?["status"] == "True")
        #expect(status[path: ["containerStatuses"]]?.arrayValue?.first?["ready"] == true)
        #expect(status[path: ["containerStatuses"]]?.arrayValue?.first?[path: ["state", "running", "startedAt"]] != nil)
    }

    @Test func phaseByRestartPolicy() {
        let failed = ContainerRuntimeState.exited(exitCode: 1, signal: nil, reason: "Error", startedAt: Self.t0, finishedAt: Self.t0)
        let ok = ContainerRuntimeState.exited(exitCode: 0, signal: nil, reason: "Completed", startedAt: Self.t0, finishedAt: Self.t0)
        #expect(builder(Self.pod(restartPolicy: "Never"), [], [Self.slot("app", state: failed)]).phase == "Failed")
        #expect(builder(Self.pod(restartPolicy: "Never"), [], [Self.slot("app", state: ok)]).phase == "Succeeded")
        #expect(builder(Self.pod(restartPolicy: "OnFailure"), [], [Self.slot("app", state: ok)]).phase == "Succeeded")
        #expect(builder(Self.pod(restartPolicy: "OnFailure"), [], [Self.slot("app", state: failed)]).phase == "Running")
        #expect(builder(Self.pod(restartPolicy: "Always"), [], [Self.slot("app", state: ok)]).phase == "Running")
    }

    @Test func initContainersGateInitialized() {
        let pod = Self.pod(initContainers: ["setup"])
        let running = builder(pod, [Self.slot("setup", isInit: true, state: .running(startedAt: Self.t0))], [Self.slot("app", state: nil)])
        #expect(running.phase == "Pending")
        let initialized = running.build(previous: nil)["conditions"]?.arrayValue?.first { $0["type"] == "Initialized" }
        #expect(initialized?["status"] == "False")
        let done = ContainerRuntimeState.exited(exitCode: 0, signal: nil, reason: "Completed", startedAt: Self.t0, finishedAt: Self.t0)
        let after = builder(pod, [Self.slot("setup", isInit: true, state: done)], [Self.slot("app", state: .running(startedAt: Self.t0))])
        #expect(after.phase == "Running")
        #expect(after.build(previous: nil)["initContainerStatuses"]?.arrayValue?.first?["ready"] == true)
        let failedInit = ContainerRuntimeState.exited(exitCode: 2, signal: nil, reason: "Error", startedAt: Self.t0, finishedAt: Self.t0)
        #expect(builder(Self.pod(restartPolicy: "Never", initContainers: ["setup"]), [Self.slot("setup", isInit: true, state: failedInit)],
                        [Self.slot("app", state: nil)]).phase == "Failed")
    }

    @Test func crashLoopShowsWaitingWithLastState() {
        var s = Self.slot("app", state: .exited(exitCode: 1, signal: nil, reason: "Error", startedAt: Self.t0, finishedAt: Self.t0), attempt: 2)
        s.waiting = ("CrashLoopBackOff", "back-off 20s restarting failed container=app pod=p_default(u1)")
        s.lastTerminated = s.terminated()
        let status = builder(Self.pod(), [], [s]).build(previous: nil)
        let cs = status["containerStatuses"]?.arrayValue?.first
        #expect(cs?[path: ["state", "waiting", "reason"]] == "CrashLoopBackOff")
        #expect(cs?["restartCount"] == 2)
        #expect(cs?[path: ["lastState", "terminated", "exitCode"]] == 1)
        #expect(builder(Self.pod(), [], [s]).phase == "Running")
    }

    @Test func transitionTimesCarryOverAndSameStatusIgnoresThem() {
        let b = builder(Self.pod(), [], [Self.slot("app", state: .running(startedAt: Self.t0))])
        let first = b.build(previous: nil)
        var later = b
        later.now = Self.t0.addingTimeInterval(3600)
        let second = later.build(previous: first)
        #expect(second["conditions"] == first["conditions"])
        #expect(PodStatusBuilder.sameStatus(first, second))
    }

    @Test func inputsMoveWithEveryChangeTheStatusShows() {
        let running = Self.slot("app", state: .running(startedAt: Self.t0))
        let b = builder(Self.pod(), [], [running])
        #expect(b.inputs == builder(Self.pod(), [], [running]).inputs)
        var ready = running
        ready.readinessHealthy = true
        var crashing = running
        crashing.waiting = ("CrashLoopBackOff", "back-off 10s")
        var exited = running
        exited.runtimeState = .exited(exitCode: 1, signal: nil, reason: "Error", startedAt: Self.t0, finishedAt: Self.t0)
        var restarted = running
        restarted.current = ContainerID(podUID: "u1", name: "app", attempt: 1)
        for slot in [ready, crashing, exited, restarted] {
            #expect(builder(Self.pod(), [], [slot]).inputs != b.inputs)
        }
        var updated = Self.pod()
        updated[path: ["metadata", "resourceVersion"]] = "42"
        #expect(builder(updated, [], [running]).inputs != b.inputs)
        var moved = b
        moved.podIP = "10.244.0.6"
        #expect(moved.inputs != b.inputs)
        // Probe bookkeeping the status does not show leaves them alone.
        var counted = running
        counted.missedLooks = 1
        counted.livenessHealthy = false
        #expect(builder(Self.pod(), [], [counted]).inputs == b.inputs)
    }

    @Test func qosClasses() {
        let guaranteed: JSONValue = ["spec": ["containers": [["name": "a", "resources": ["limits": ["cpu": "1", "memory": "1Gi"]]]]]]
        let burstable: JSONValue = ["spec": ["containers": [["name": "a", "resources": ["requests": ["cpu": "100m"]]]]]]
        #expect(PodStatusBuilder.qosClass(guaranteed) == "Guaranteed")
        #expect(PodStatusBuilder.qosClass(burstable) == "Burstable")
        #expect(PodStatusBuilder.qosClass(Self.pod()) == "BestEffort")
    }

    @Test func crashLoopBackoffDoublesToCapAndResets() {
        var b = CrashLoopBackoff()
        let delays = (0..<8).map { _ in b.next(ranFor: .seconds(1)) }
        #expect(delays == [.zero, .seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(300), .seconds(300)])
        #expect(b.next(ranFor: .seconds(600)) == .zero)
        #expect(b.next(ranFor: .seconds(1)) == .seconds(10))
    }
}
