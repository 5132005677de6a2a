import Foundation
import Testing
@testable import Kubelet

@Suite struct FakeRuntimeTests {
    func config(_ uid: String, _ name: String, attempt: Int = 0) -> ContainerConfig {
        ContainerConfig(id: ContainerID(podUID: uid, name: name, attempt: attempt), namespace: "default", podName: "p-\(uid)",
                        image: "nginx", command: [], args: [], env: [], workingDir: nil, mounts: [], limits: .init(),
                        logPath: "/nonexistent/\(uid)/\(name).log")
    }

    @Test func containersRunAtOnceAndCompleteWhenStopped() async throws {
        let runtime = FakeRuntime(podCIDR: "10.244.3.0/24")
        let sandbox = try await runtime.startSandbox(PodSandboxConfig(podUID: "u1", namespace: "default", name: "p", hostNetwork: false))
        #expect(sandbox.podIP == "10.244.3.2")
        #expect(try await runtime.startSandbox(PodSandboxConfig(podUID: "u1", namespace: "default", name: "p", hostNetwork: false)) == sandbox)
        let id = try await runtime.startContainer(config("u1", "web"))
        guard case .running = await runtime.containerStatus(id) else { Issue.record("not running"); return }
        #expect(try await runtime.exec(id, command: ["true"], timeout: .seconds(1)) == ExecResult(exitCode: 0, output: ""))
        // No process to exec into: a clear error on stderr and exit code 126, not a silent success.
        let session = try await runtime.execStreaming(id, command: ["sh"], tty: false)
        var stderr: [UInt8] = []
        for await (stream, bytes) in session.output { if stream == ExecStreamProtocol.stderr { stderr += bytes } }
        #expect(String(decoding: stderr, as: UTF8.self).contains("fake runtime, which runs no processes: exec is not supported"))
        #expect(await session.wait() == 126)

        await runtime.stopContainer(id, gracePeriod: .seconds(30))
        guard case .exited(let code, _, let reason, _, _) = await runtime.containerStatus(id) else { Issue.record("not exited"); return }
        #expect(code == 0 && reason == "Completed")
        #expect(await runtime.listContainers().count == 1)
        await runtime.removeContainer(id)
        #expect(await runtime.listContainers().isEmpty)
    }

    @Test func podsThatRunToCompletionExitByThemselves() async throws {
        let runtime = FakeRuntime()
        // A Job's pod: its containers complete at once.
        _ = try await runtime.startSandbox(PodSandboxConfig(podUID: "job", namespace: "default", name: "j", hostNetwork: false,
                                                            labels: ["batch.kubernetes.io/job-name": "backup"]))
        let done = try await runtime.startContainer(config("job", "main"))
        await runtime.waitForExit(done)
        guard case .exited(0, _, "Completed", _, _) = await runtime.containerStatus(done) else { Issue.record("not completed"); return }
        // The annotations choose the delay and the exit code.
        _ = try await runtime.startSandbox(PodSandboxConfig(podUID: "bad", namespace: "default", name: "b", hostNetwork: false,
                                                            annotations: [FakeRuntime.exitAfterAnnotation: "10ms",
                                                                          FakeRuntime.exitCodeAnnotation: "3"]))
        let failed = try await runtime.startContainer(config("bad", "main"))
        await runtime.waitForExit(failed)
        guard case .exited(3, _, "Error", _, _) = await runtime.containerStatus(failed) else { Issue.record("not failed"); return }
        // Any other pod runs until stopped.
        _ = try await runtime.startSandbox(PodSandboxConfig(podUID: "web", namespace: "default", name: "w", hostNetwork: false))
        let web = try await runtime.startContainer(config("web", "main"))
        try await Task.sleep(for: .milliseconds(50))
        guard case .running = await runtime.containerStatus(web) else { Issue.record("a server pod ended"); return }
    }

    @Test func ipsComeFromTheCIDRAndAreReused() async throws {
        let runtime = FakeRuntime(podCIDR: "10.244.9.0/30", hostIP: "192.168.1.5")
        let a = try await runtime.startSandbox(PodSandboxConfig(podUID: "a", namespace: "d", name: "a", hostNetwork: false))
        #expect(a.podIP == "10.244.9.2")
        // A /30 has one usable pod address past the gateway.
        await #expect(throws: ContainerStartError.self) {
            _ = try await runtime.startSandbox(PodSandboxConfig(podUID: "b", namespace: "d", name: "b", hostNetwork: false))
        }
        let host = try await runtime.startSandbox(PodSandboxConfig(podUID: "h", namespace: "d", name: "h", hostNetwork: true))
        #expect(host.podIP == "192.168.1.5")
        try await runtime.removeSandbox(podUID: "a")
        let b = try await runtime.startSandbox(PodSandboxConfig(podUID: "b", namespace: "d", name: "b", hostNetwork: false))
        #expect(b.podIP == "10.244.9.2")
    }

    @Test func removeSandboxStopsItsContainersAndTerminateEndsOne() async throws {
        let runtime = FakeRuntime()
        _ = try await runtime.startSandbox(PodSandboxConfig(podUID: "u", namespace: "d", name: "p", hostNetwork: false))
        #expect(await runtime.podIP(podUID: "u") == "10.244.0.2")
        let one = try await runtime.startContainer(config("u", "one"))
        let two = try await runtime.startContainer(config("u", "two"))
        await runtime.terminate(one, exitCode: 1, reason: "Error")
        guard case .exited(1, _, "Error", _, _) = await runtime.containerStatus(one) else { Issue.record("one"); return }
        try await runtime.removeSandbox(podUID: "u")
        guard case .exited(0, _, "Completed", _, _) = await runtime.containerStatus(two) else { Issue.record("two"); return }
        await #expect(throws: ContainerStartError.self) { _ = try await runtime.startContainer(config("u", "three")) }
    }

    @Test func invalidPodCIDRsAreRefusedWithAClearError() async throws {
        let runtime = FakeRuntime(podCIDR: "10.244.3.0/24")
        for bad in ["0.0.0.0/0", "10.0.0.0/31", "10.0.0.0/32", "10.0.0.0", "10.0.0.0/33", "fd00::/64", "x/8", ""] {
            await #expect(throws: InvalidPodCIDR.self) { try await runtime.setPodCIDR(bad) }
        }
        // The range in use stays.
        let a = try await runtime.startSandbox(PodSandboxConfig(podUID: "a", namespace: "d", name: "a", hostNetwork: false))
        #expect(a.podIP == "10.244.3.2")
        // A /0 given at start leaves the default range, not a crash.
        let fallback = FakeRuntime(podCIDR: "0.0.0.0/0")
        let b = try await fallback.startSandbox(PodSandboxConfig(podUID: "b", namespace: "d", name: "b", hostNetwork: false))
        #expect(b.podIP == "10.244.0.2")
        try await runtime.setPodCIDR("10.0.0.0/1")
        let c = try await runtime.startSandbox(PodSandboxConfig(podUID: "c", namespace: "d", name: "c", hostNetwork: false))
        #expect(c.podIP == "0.0.0.2")
    }
}
