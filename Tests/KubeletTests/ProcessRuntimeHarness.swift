import Foundation
import Logging
import Testing
@testable import Kubelet

/// One temporary kubelet root, pod and ProcessRuntime per test; `cleanup()` kills whatever the
/// test started (removeSandbox) and deletes the root.
///
/// The shim is found next to the running test binary (`/proc/self/exe`, i.e.
/// `.build/<triple>/debug/`, where `swift build --build-tests` also puts `caravel-shim`), else at
/// `<package>/.build/debug/caravel-shim` found by walking up from this file.
struct ProcessRuntimeHarness {
    let root: String
    let paths: KubeletPaths
    let runtime: ProcessRuntime
    let podUID = "p" + UUID().uuidString.lowercased().prefix(12)

    static let cgroupParent = "caravel-test"

    init(logMaxBytes: Int = 10 * 1024 * 1024, logMaxFiles: Int = 5) throws {
        root = NSTemporaryDirectory() + "caravel-pr-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        paths = KubeletPaths(root: root)
        runtime = Self.makeRuntime(paths: paths, logMaxBytes: logMaxBytes, logMaxFiles: logMaxFiles)
    }

    static func makeRuntime(paths: KubeletPaths, logMaxBytes: Int = 10 * 1024 * 1024, logMaxFiles: Int = 5) -> ProcessRuntime {
        ProcessRuntime(paths: paths, shimPath: shimPath(), network: nil, cgroupParent: cgroupParent,
                       logMaxBytes: logMaxBytes, logMaxFiles: logMaxFiles, logger: Logger(label: "process-runtime-test"))
    }

    static func shimPath() -> String {
        if let dir = ImageResolver.currentExecutableDirectory(), FileManager.default.isExecutableFile(atPath: dir + "/caravel-shim") {
            return dir + "/caravel-shim"
        }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent(".build/debug/caravel-shim").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return "caravel-shim"
    }

    func startSandbox(resources: ResourceLimits = .init()) async throws {
        _ = try await runtime.startSandbox(PodSandboxConfig(podUID: podUID, namespace: "default", name: "pod",
                                                           hostNetwork: false, resources: resources))
    }

    func config(_ name: String, attempt: Int = 0, command: [String], limits: ResourceLimits = .init(),
                workingDir: String? = nil) -> ContainerConfig {
        let id = ContainerID(podUID: podUID, name: name, attempt: attempt)
        return ContainerConfig(
            id: id, namespace: "default", podName: "pod", image: "busybox", command: command, args: [],
            env: [("PATH", ProcessInfo.processInfo.environment["PATH"] ?? ImageResolver.defaultPath), ("GREETING", "hello")],
            workingDir: workingDir, mounts: [], limits: limits,
            logPath: paths.containerLogPath(namespace: "default", pod: "pod", uid: podUID, container: name, attempt: attempt))
    }

    /// Polls until the container exited (a generous safety cap only, not a timing assertion).
    func waitExited(_ id: ContainerID, runtime: ProcessRuntime? = nil) async -> ContainerRuntimeState? {
        let runtime = runtime ?? self.runtime
        for _ in 0..<3000 {
            if let state = await runtime.containerStatus(id), case .exited = state { return state }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await runtime.containerStatus(id)
    }

    /// Polls until the log file contains `text`.
    func waitForLog(_ path: String, containing text: String) async -> String {
        var content = ""
        for _ in 0..<3000 {
            content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if content.contains(text) { return content }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return content
    }

    /// Runs `body` with a fresh harness and always cleans up afterwards (a `defer` cannot await).
    static func with(logMaxBytes: Int = 10 * 1024 * 1024, logMaxFiles: Int = 5,
                     _ body: (ProcessRuntimeHarness) async throws -> Void) async throws {
        let harness = try ProcessRuntimeHarness(logMaxBytes: logMaxBytes, logMaxFiles: logMaxFiles)
        do {
            try await harness.startSandbox()
            try await body(harness)
        } catch {
            await harness.cleanup()
            throw error
        }
        await harness.cleanup()
    }

    func cleanup() async {
        try? await runtime.removeSandbox(podUID: podUID)
        try? FileManager.default.removeItem(atPath: root)
    }
}

extension ContainerRuntimeState {
    var harnessExitCode: Int32? {
        if case .exited(let code, _, _, _, _) = self { return code }
        return nil
    }
    var harnessReason: String? {
        if case .exited(_, _, let reason, _, _) = self { return reason }
        return nil
    }
    var harnessIsRunning: Bool {
        if case .running = self { return true }
        return false
    }
}
