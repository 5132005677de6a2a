import Foundation
import class KubeClient.KubeRESTClient
import struct KubeClient.ClusterConnection
import KubeModel
import Testing
@testable import Kubelet

/// The pod worker reads its containers' states from the runtime while probe results keep
/// arriving on the same (reentrant) actor: a result that lands during the read must survive it.
@Suite struct PodWorkerObserveTests {
    @Test(.timeLimit(.minutes(1))) func readinessThatLandsDuringARuntimeReadIsKept() async throws {
        let runtime = GatedStatusRuntime()
        let root = PodWorkerFixture.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Nothing here reaches the API server: only a failed probe or a status write would.
        let client = try KubeRESTClient(connection: ClusterConnection(server: "https://127.0.0.1:1"))
        let ctx = PodWorkerFixture.context(client: client, runtime: runtime, root: root, simulated: false)
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "default", "uid": "uid-1"],
                              "spec": ["containers": [["name": "srv", "readinessProbe": ["tcpSocket": ["port": 8080]]]]]]
        let id = ContainerID(podUID: "uid-1", name: "srv", attempt: 0)
        let worker = PodWorker(pod: pod, ctx: ctx, records: [ContainerRecord(id: id, state: .running(startedAt: Date()), logPath: "")])

        let observing = Task { await worker.observeContainers() }
        await runtime.waitUntilAsked()
        await worker.probeResult(container: id, ProbeUpdate(kind: .readiness, attempt: .success, healthy: true, changed: true))
        runtime.answer()
        await observing.value

        #expect(await worker.appSlots[0].readinessHealthy == true)
        #expect(await worker.appSlots[0].isRunning)
        try await client.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func aNapEndedByAWakeLeavesNoSecondWakeBehind() async throws {
        let root = PodWorkerFixture.tempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let client = try KubeRESTClient(connection: ClusterConnection(server: "https://127.0.0.1:1"))
        let ctx = PodWorkerFixture.context(client: client, runtime: GatedStatusRuntime(), root: root, simulated: true)
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "default", "uid": "uid-2"],
                              "spec": ["containers": [["name": "srv"]]]]
        let worker = PodWorker(pod: pod, ctx: ctx, records: [])
        let napping = Task { await worker.nap(.seconds(600)) }
        while await !worker.isNapping { try await Task.sleep(for: .milliseconds(5)) }
        await worker.wake()
        await napping.value
        // The nap's timer is cancelled when it ends; it must not wake the worker once more,
        // which would cost a second sync for every update.
        try await Task.sleep(for: .milliseconds(300))
        #expect(await worker.hasPendingWake == false)
        try await client.shutdown()
    }
}

/// Answers `containerStatus` (running) only when told to, after saying it was asked.
private final class GatedStatusRuntime: ContainerRuntime, @unchecked Sendable {
    let name = "gated"
    private let asked = AsyncStream<Void>.makeStream()
    private let released = AsyncStream<Void>.makeStream()

    func waitUntilAsked() async {
        for await _ in asked.stream { return }
    }

    func answer() { released.continuation.yield() }

    func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? {
        asked.continuation.yield()
        for await _ in released.stream { break }
        return .running(startedAt: Date())
    }

    func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus { SandboxStatus(podIP: "127.0.0.1", networkNamespacePath: nil) }
    func removeSandbox(podUID: String) async throws {}
    func startContainer(_ config: ContainerConfig) async throws -> ContainerID {
        throw ContainerStartError(reason: "RunContainerError", message: "not supported by GatedStatusRuntime")
    }
    func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {}
    func listContainers() async -> [ContainerRecord] { [] }
    func removeContainer(_ id: ContainerID) async {}
    func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult { ExecResult(exitCode: 0, output: "") }
    func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        throw ContainerStartError(reason: "RunContainerError", message: "not supported by GatedStatusRuntime")
    }
}
