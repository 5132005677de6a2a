import Foundation
import KubeModel
@testable import Kubelet

/// A runtime whose `exec` runs the command on the host (through /usr/bin/env), or answers from
/// a script of results when one is given. Nothing else is implemented.
final class ProbeTestRuntime: ContainerRuntime, @unchecked Sendable {
    let name = "probe-test"
    private let lock = NSLock()
    private var script: [ExecResult]
    private(set) var commands: [[String]] = []

    init(script: [ExecResult] = []) { self.script = script }

    func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult {
        let scripted: ExecResult? = lock.withLock {
            commands.append(command)
            return script.isEmpty ? nil : script.removeFirst()
        }
        if let scripted { return scripted }
        return try await runOnHost(command, timeout: timeout)
    }

    private func runOnHost(_ command: [String], timeout: Duration) async throws -> ExecResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let (exited, continuation) = AsyncStream<Void>.makeStream()
        process.terminationHandler = { _ in continuation.finish() }
        try process.run()
        let timedOut = await withTaskGroup(of: Bool.self) { group in
            group.addTask { for await _ in exited {}; return false }
            group.addTask { (try? await Task.sleep(for: timeout)) != nil }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            for await _ in exited {}
            throw ExecTimeout()
        }
        let reader = pipe.fileHandleForReading
        let output = await TestProcess.offPool { String(decoding: reader.readDataToEndOfFile(), as: UTF8.self) }
        return ExecResult(exitCode: process.terminationStatus, output: output)
    }

    func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus { SandboxStatus(podIP: "127.0.0.1", networkNamespacePath: nil) }
    func removeSandbox(podUID: String) async throws {}
    func startContainer(_ config: ContainerConfig) async throws -> ContainerID {
        throw ContainerStartError(reason: "RunContainerError", message: "not supported by ProbeTestRuntime")
    }
    func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {}
    func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? { nil }
    func listContainers() async -> [ContainerRecord] { [] }
    func removeContainer(_ id: ContainerID) async {}
    func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        throw ContainerStartError(reason: "RunContainerError", message: "not supported by ProbeTestRuntime")
    }
}
