import Foundation
import Testing
@testable import Kubelet

/// Terminals and consoles of the process runtime with real shims: `exec -t` on a
/// pseudo-terminal, and attaching to a container started with `stdin`/`tty`.
@Suite struct ProcessRuntimeConsoleTests {
    /// Output collected until `predicate` holds or the session ends.
    static func read(_ session: any ExecSession, until predicate: (String) -> Bool) async -> String {
        var text = ""
        for await (_, bytes) in session.output {
            text += String(decoding: bytes, as: UTF8.self)
            if predicate(text) { break }
        }
        return text
    }

    @Test func execOnATerminalHasOneSizedTerminalForAllStreams() async throws {
        try await ProcessRuntimeHarness.with { h in
            let id = try await h.runtime.startContainer(h.config("app", command: ["sleep", "1000"]))
            let session = try await h.runtime.execStreaming(id, command: ["sh", "-c", "read size; stty size; tty; echo to-stderr >&2; exit 3"], tty: true)
            await session.resize(width: 91, height: 17)
            await session.writeStdin(Array("go\n".utf8))
            let text = await Self.read(session) { _ in false }
            #expect(text.contains("17 91"))
            #expect(text.contains("/dev/pts/"))
            #expect(text.contains("to-stderr"))
            #expect(await session.wait() == 3)
        }
    }

    @Test func attachReachesTheContainersTerminalAndDetachesWithoutStoppingIt() async throws {
        try await ProcessRuntimeHarness.with { h in
            var config = h.config("app", command: ["sh", "-c", "while read line; do echo \"echo:$line\"; done; echo stdin-closed"])
            config.stdin = true
            config.tty = true
            let id = try await h.runtime.startContainer(config)
            let first = try await h.runtime.attach(id)
            await first.writeStdin(Array("one\n".utf8))
            #expect(await Self.read(first) { $0.contains("echo:one") }.contains("echo:one"))
            await first.terminate()
            let second = try await h.runtime.attach(id)
            await second.writeStdin(Array("two\n".utf8))
            #expect(await Self.read(second) { $0.contains("echo:two") }.contains("echo:two"))
            // ^D on the terminal ends the shell's input; the console closes with the container.
            await second.writeStdin([4])
            let rest = await Self.read(second) { _ in false }
            #expect(rest.contains("stdin-closed"))
            #expect(await second.wait() == 0)
        }
    }

    @Test func attachWithPipesAndStdinOnceClosesStdinWhenTheClientLeaves() async throws {
        try await ProcessRuntimeHarness.with { h in
            var config = h.config("app", command: ["sh", "-c", "cat; echo done-reading; sleep 1000"])
            config.stdin = true
            config.stdinOnce = true
            let id = try await h.runtime.startContainer(config)
            let session = try await h.runtime.attach(id)
            await session.writeStdin(Array("piped\n".utf8))
            #expect(await Self.read(session) { $0.contains("piped") }.contains("piped"))
            await session.terminate()
            // The first client leaving closed the container's stdin: cat ends.
            let log = await h.waitForLog(config.logPath, containing: "done-reading")
            #expect(log.contains("done-reading"))
        }
    }

    @Test func aContainerWithoutStdinHasNoConsole() async throws {
        try await ProcessRuntimeHarness.with { h in
            let id = try await h.runtime.startContainer(h.config("app", command: ["sleep", "1000"]))
            await #expect(throws: ContainerStartError.self) { _ = try await h.runtime.attach(id) }
        }
    }
}
