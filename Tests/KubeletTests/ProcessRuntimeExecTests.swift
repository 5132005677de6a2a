import Foundation
import Testing
@testable import Kubelet

@Suite struct ProcessRuntimeExecTests {
    @Test func execCapturesOutputAndExitCode() async throws {
        let h = try ProcessRuntimeHarness()
        defer { Task { await h.cleanup() } }
        try await h.startSandbox()
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

    @Test func execStreamingPipesStdinAndOutput() async throws {
        let h = try ProcessRuntimeHarness()
        defer { Task { await h.cleanup() } }
        try await h.startSandbox()
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
