import Foundation
import KubeModel
import Testing
@testable import Kubelet

private actor UpdateLog {
    var updates: [ProbeUpdate] = []
    func add(_ u: ProbeUpdate) { updates.append(u) }
}

/// Polls until `log` holds `count` updates (generous bound: probes run once a second).
private func waitFor(_ count: Int, in log: UpdateLog) async -> [ProbeUpdate] {
    for _ in 0..<600 {
        let updates = await log.updates
        if updates.count >= count { return updates }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return await log.updates
}

private func results(_ codes: [Int32]) -> [ExecResult] {
    codes.map { ExecResult(exitCode: $0, output: $0 == 0 ? "" : "down") }
}

private func states(_ kind: ProbeKind, success: Int = 1, failure: Int, _ attempts: String) -> [(Bool, Bool)] {
    var t = ProbeThresholds(kind: kind, successThreshold: success, failureThreshold: failure)
    return attempts.map { t.record($0 == "S" ? .success : .failure("x")) }.map { ($0.healthy, $0.changed) }
}

@Suite struct ProbeWorkerTests {
    @Test func readinessThresholds() {
        let s = states(.readiness, success: 2, failure: 2, "SSFFSFS")
        #expect(s.map(\.0) == [false, true, true, false, false, false, false])
        #expect(s.map(\.1) == [false, true, false, true, false, false, false])
    }

    @Test func livenessThresholds() {
        let s = states(.liveness, failure: 3, "FFSFFFS")
        #expect(s.map(\.0) == [true, true, true, true, true, false, true])
        #expect(s.map(\.1) == [false, false, false, false, false, true, true])
        // successThreshold is forced to 1 for liveness and startup.
        #expect(ProbeSpec(["successThreshold": 3], kind: .liveness).successThreshold == 1)
    }

    @Test func startupThresholds() {
        let failed = states(.startup, failure: 2, "FFF")
        #expect(failed.map(\.0) == [false, false, false])
        #expect(failed.map(\.1) == [false, true, false])
        let started = states(.startup, failure: 3, "FS")
        #expect(started.map(\.0) == [false, true])
        #expect(started.map(\.1) == [false, true])
    }

    @Test func readinessWorkerReportsEveryAttempt() async {
        let runtime = ProbeTestRuntime(script: results([0, 0, 1, 0]))
        let log = UpdateLog()
        let probe: JSONValue = ["exec": ["command": ["check"]], "periodSeconds": 1, "successThreshold": 2, "failureThreshold": 1]
        let worker = ProbeWorker(kind: .readiness, probe: probe, target: probeTarget(runtime: runtime)) { await log.add($0) }
        let task = Task { await worker.run() }
        let updates = await waitFor(3, in: log)
        task.cancel()
        await task.value
        #expect(Array(updates.prefix(3)) == [
            ProbeUpdate(kind: .readiness, attempt: .success, healthy: false, changed: false),
            ProbeUpdate(kind: .readiness, attempt: .success, healthy: true, changed: true),
            ProbeUpdate(kind: .readiness, attempt: .failure("down"), healthy: false, changed: true),
        ])
    }

    @Test func livenessWorkerFailsAfterThreshold() async {
        let runtime = ProbeTestRuntime(script: results([1, 1, 1]))
        let log = UpdateLog()
        let probe: JSONValue = ["exec": ["command": ["check"]], "periodSeconds": 1, "failureThreshold": 2]
        let worker = ProbeWorker(kind: .liveness, probe: probe, target: probeTarget(runtime: runtime)) { await log.add($0) }
        let task = Task { await worker.run() }
        let updates = await waitFor(2, in: log)
        task.cancel()
        await task.value
        #expect(updates.prefix(2).map(\.healthy) == [true, false])
        #expect(updates.prefix(2).map(\.changed) == [false, true])
    }

    @Test func startupWorkerStopsAfterSuccess() async {
        let runtime = ProbeTestRuntime(script: results([1, 0, 1, 1]))
        let log = UpdateLog()
        let probe: JSONValue = ["exec": ["command": ["check"]], "periodSeconds": 1, "failureThreshold": 5]
        let worker = ProbeWorker(kind: .startup, probe: probe, target: probeTarget(runtime: runtime)) { await log.add($0) }
        await worker.run()  // returns on its own
        let updates = await log.updates
        #expect(updates == [
            ProbeUpdate(kind: .startup, attempt: .failure("down"), healthy: false, changed: false),
            ProbeUpdate(kind: .startup, attempt: .success, healthy: true, changed: true),
        ])
        #expect(runtime.commands.count == 2)
    }

    @Test func cancelledDuringInitialDelay() async {
        let runtime = ProbeTestRuntime(script: results([0]))
        let log = UpdateLog()
        let probe: JSONValue = ["exec": ["command": ["check"]], "initialDelaySeconds": 300]
        let worker = ProbeWorker(kind: .readiness, probe: probe, target: probeTarget(runtime: runtime)) { await log.add($0) }
        let task = Task { await worker.run() }
        try? await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await task.value
        #expect(await log.updates.isEmpty)
        #expect(runtime.commands.isEmpty)
    }
}
