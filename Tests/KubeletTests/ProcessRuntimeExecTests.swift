import Foundation
import Testing
@testable import Kubelet

@Suite struct ProcessRuntimeExecTests {
    @Test func execCapturesOutputAndExitCode() async throws {
        try await ProcessRuntimeHarness.with { h in
            let id = try await h.runtime.startContainer(h.config("app", command: ["sleep", "1000"], workingDir: "/tmp"))
            let result = try await h.runtime.exec(id, command: ["sh", "-c", "echo $GREETING; pwd; echo oops >&2; exit 4"],
                                                  timeout: .seconds(60))
            #expect(result.exitCode == 4)
            #expect(result.output.contains("hello"))
            #expect(result.output.contains("/tmp"))
            #expect(result.output.contains("oops"))
            let missing = try await h.runtime.exec(id, command: ["no-such-program-caravel"], timeout: .seconds(60))
            #expect(missing.exitCode == 127)

            await #expect(throws: ExecTimeout.self) {
                _ = try await h.runtime.exec(id, command: ["sleep", "1000"], timeout: .milliseconds(300))
            }
            await h.runtime.stopContainer(id, gracePeriod: .seconds(5))
            await #expect(throws: (any Error).self) {
                _ = try await h.runtime.exec(id, command: ["true"], timeout: .seconds(5))
            }
        }
    }

    @Test func execStreamingPipesStdinAndOutput() async throws {
        try await ProcessRuntimeHarness.with { h in
            let id = try await h.runtime.startContainer(h.config("app", command: ["sleep", "1000"]))
            let session = try await h.runtime.execStreaming(id, command: ["sh", "-c", "read line; echo got-$line; echo e >&2; exit 5"], tty: false)
            await session.writeStdin(Array("abc\n".utf8))
            await session.closeStdin()
            var stdout: [UInt8] = [], stderr: [UInt8] = []
            for await (stream, bytes) in session.output {
                if stream == 1 { stdout += bytes } else { stderr += bytes }
            }
            #expect(String(decoding: stdout, as: UTF8.self) == "got-abc\n")
            #expect(String(decoding: stderr, as: UTF8.self) == "e\n")
            #expect(await session.wait() == 5)

            let endless = try await h.runtime.execStreaming(id, command: ["sleep", "1000"], tty: false)
            await endless.terminate()
            #expect(await endless.wait() == 137)
        }
    }

    /// Root only: bind mounts live in the container's own mount namespace, read-only when asked,
    /// and exec enters that namespace.
    @Test(.enabled(if: geteuid() == 0, "needs root: bind mounts in a mount namespace"))
    func mountsAreVisibleToContainerAndExecOnly() async throws {
        try await ProcessRuntimeHarness.with { h in
            let fm = FileManager.default
            let source = h.root + "/volume", target = h.root + "/mnt/config"
            try fm.createDirectory(atPath: source, withIntermediateDirectories: true)
            try "vol\n".write(toFile: source + "/data", atomically: true, encoding: .utf8)
            var config = h.config("mounted", command: ["sh", "-c", "cat \(target)/data; touch \(target)/x || echo readonly; sleep 1000"])
            config.mounts = [Mount(hostPath: source, containerPath: target, readOnly: true)]
            let id = try await h.runtime.startContainer(config)
            let log = await h.waitForLog(config.logPath, containing: "readonly")
            #expect(log.contains("stdout F vol"))
            #expect(log.contains("stdout F readonly"))
            // The node's namespace sees only the empty mount point.
            #expect(fm.fileExists(atPath: target))
            #expect(!fm.fileExists(atPath: target + "/data"))
            let result = try await h.runtime.exec(id, command: ["cat", target + "/data"], timeout: .seconds(60))
            #expect(result == ExecResult(exitCode: 0, output: "vol\n"))
            await h.runtime.stopContainer(id, gracePeriod: .zero)
        }
    }

    /// Background processes must neither hold an exec open nor keep an exited container running.
    @Test func backgroundChildrenDoNotBlockExitOrExec() async throws {
        try await ProcessRuntimeHarness.with { h in
            let config = h.config("bg", command: ["sh", "-c", "sleep 1000 & echo bg $!; exit 0"])
            let id = try await h.runtime.startContainer(config)
            #expect(await h.waitExited(id)?.harnessReason == "Completed")
            let log = await h.waitForLog(config.logPath, containing: "bg ")
            let leftover = log.split(separator: "\n").first { $0.contains("stdout F bg ") }.flatMap { $0.split(separator: " ").last }.flatMap { pid_t($0) }
            if h.runtime.cgroups.enabled, let leftover {
                #expect(h.runtime.cgroups.processes(podUID: h.podUID, container: id).contains(leftover))
                await h.runtime.removeContainer(id)
                #expect(!ProcFS.isAlive(leftover, startTime: nil)) // gone, or a zombie of a non-reaping init
            } else if let leftover {
                kill(leftover, SIGKILL)
            }

            let app = try await h.runtime.startContainer(h.config("app", command: ["sleep", "1000"]))
            let result = try await h.runtime.exec(app, command: ["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!"], timeout: .seconds(60))
            #expect(result.exitCode == 0)
            if let pid = pid_t(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) { kill(pid, SIGKILL) }
            await h.runtime.stopContainer(app, gracePeriod: .zero)
        }
    }
}
