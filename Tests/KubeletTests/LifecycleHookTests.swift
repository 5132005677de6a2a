import KubeTesting
import Foundation
import KubeModel
import Testing
@testable import Kubelet

@Suite struct LifecycleHookTests {
    @Test func execHooks() async {
        let target = probeTarget()
        #expect(await LifecycleHookRunner.run(["exec": ["command": ["true"]]], target: target, timeout: .seconds(5)) == nil)
        let failed = await LifecycleHookRunner.run(["exec": ["command": ["sh", "-c", "echo bye; exit 3"]]],
                                                   target: target, timeout: .seconds(5))
        #expect(failed == "command 'sh -c echo bye; exit 3' exited with 3: bye")
        // The command outlasts any stall of a loaded machine: only the timeout can end it first.
        let slow = await LifecycleHookRunner.run(["exec": ["command": ["sleep", "120"]]], target: target, timeout: .milliseconds(300))
        #expect(slow == "command timed out")
    }

    @Test func httpGetHooks() async throws {
        let server = try await ProbeTestServer.start(python: ProbeTestServer.http)
        defer { server.stop() }
        let port = JSONValue.int(Int64(server.port))
        let target = probeTarget()
        #expect(await LifecycleHookRunner.run(["httpGet": ["path": "/ok", "port": port]], target: target, timeout: .seconds(5)) == nil)
        // The kubelet ignores the status of a hook's response.
        #expect(await LifecycleHookRunner.run(["httpGet": ["path": "/fail", "port": port]], target: target, timeout: .seconds(5)) == nil)
        let closedPort = try BoundLoopbackSocket()
        defer { closedPort.close() }
        let closed = JSONValue.int(Int64(closedPort.port))
        let refused = await LifecycleHookRunner.run(["httpGet": ["path": "/", "port": closed]], target: target, timeout: .seconds(5))
        #expect(refused?.contains("connection refused") == true)
    }

    @Test func sleepAndTCPHooks() async {
        let target = probeTarget()
        #expect(await LifecycleHookRunner.run(["sleep": ["seconds": 0]], target: target, timeout: .seconds(1)) == nil)
        #expect(await LifecycleHookRunner.run(["sleep": ["seconds": 30]], target: target, timeout: .milliseconds(100))
            == "container terminated before sleep hook finished")
        #expect(await LifecycleHookRunner.run(["tcpSocket": ["port": 1]], target: target, timeout: .seconds(1)) == nil)
        #expect(await LifecycleHookRunner.run([:], target: target, timeout: .seconds(1)) != nil)
    }
}
