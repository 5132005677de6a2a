import Foundation
import Synchronization
import Testing

@testable import Kubelet

/// A clock that moves only when the test says; nothing here sleeps on it.
final class SteppedClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private let current = Mutex(Instant(offset: .zero))
    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .zero }
    func advance(by d: Duration) { current.withLock { $0 = $0.advanced(by: d) } }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws { try await Task.sleep(for: .milliseconds(10)) }
}

/// A runtime whose container listing never returns until released.
final class HungRuntime: ContainerRuntime, Sendable {
    let name = "hung"
    private let released = Mutex(false)
    func release() { released.withLock { $0 = true } }

    func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus { SandboxStatus(podIP: "127.0.0.1", networkNamespacePath: nil) }
    func removeSandbox(podUID: String) async throws {}
    func startContainer(_ config: ContainerConfig) async throws -> ContainerID { config.id }
    func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {}
    func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? { nil }
    func listContainers() async -> [ContainerRecord] {
        while !released.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
        return []
    }
    func removeContainer(_ id: ContainerID) async {}
    func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult { ExecResult(exitCode: 0, output: "") }
    func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        FakeExecSession(message: "")
    }
}

@Suite struct NodeHealthTests {
    func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-health-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aHealthyNodeIsReady() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let health = NodeHealth(runtime: FakeRuntime(), network: nil, rootDirectory: dir, lifecycleProblem: { nil })
        let r = await health.evaluate()
        #expect(r == .ready)
        #expect(NodeConditions.desired(readiness: r, pressure: NodePressure()).last
                == NodeConditions.Desired(type: "Ready", status: true, reason: "KubeletReady", message: "kubelet is posting ready status"))
    }

    @Test func aHungRuntimeAndAnUnwritableRootMakeTheNodeNotReady() async throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A regular file where the root directory should be: nothing can be written under it.
        let notADirectory = dir + "/root"
        #expect(FileManager.default.createFile(atPath: notADirectory, contents: Data()))
        let runtime = HungRuntime()
        let health = NodeHealth(runtime: runtime, network: nil, rootDirectory: notADirectory, lifecycleProblem: { nil },
                                runtimeTimeout: .milliseconds(50))
        let r = await health.evaluate()
        #expect(r.problems.count == 2)
        #expect(r.problems.first == "container runtime is down")
        #expect(r.problems.last?.hasPrefix("kubelet root directory \(notADirectory) is not writable") == true)
        #expect(r.message.hasPrefix("[container runtime is down, kubelet root directory"))
        let ready = NodeConditions.desired(readiness: r, pressure: NodePressure()).last
        #expect(ready?.status == false && ready?.reason == "KubeletNotReady" && ready?.message == r.message)
        // While the first call hangs, the runtime stays down; once it answers, it is up again.
        #expect(await health.evaluate().problems.first == "container runtime is down")
        runtime.release()
        var recovered = false
        for _ in 0..<400 where !recovered {
            recovered = await !health.evaluate().problems.contains("container runtime is down")
            if !recovered { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(recovered)
    }

    @Test func overdueRelistsAreAPLEGProblem() {
        let clock = SteppedClock()
        let monitor = PodLifecycleMonitor(clock: clock, threshold: .seconds(180))
        #expect(monitor.problem() == nil)
        clock.advance(by: .seconds(180))
        #expect(monitor.problem() == nil)
        clock.advance(by: .seconds(5))
        #expect(monitor.problem() == "PLEG is not healthy: pleg was last seen active 3m5s ago; threshold is 3m0s")
        monitor.relisted()
        #expect(monitor.problem() == nil)
    }
}
