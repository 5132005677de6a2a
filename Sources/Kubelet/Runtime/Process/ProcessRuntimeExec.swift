import KubeModel
import Foundation

extension ProcessRuntime {
    /// Output beyond this is dropped (probes and hooks only need the start of it).
    static let execOutputLimit = 64 * 1024

    /// `caravel-shim exec` into the running container, with its stored environment.
    private func execArguments(_ id: ContainerID, command: [String]) throws -> (args: [String], env: [String: String]) {
        let record = record(id)
        guard let config = record.config(), let pid = record.pid(),
              record.exit() == nil, ProcFS.isAlive(pid, startTime: config.pidStartTime) else {
            throw ContainerStartError(reason: "ContainerNotRunning", message: "container \(id) is not running")
        }
        guard !command.isEmpty else { throw ContainerStartError(reason: "ExecError", message: "no command") }
        var args = [shimPath, "exec", "--target-pid", String(pid)]  // `--tty 1` goes in at index 2
        if let dir = config.workingDir, !dir.isEmpty { args += ["--workdir", dir] }
        return (args + ["--"] + command, Spawner.dictionary(config.env))
    }

    public func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult {
        let (args, env) = try execArguments(id, command: command)
        let pipe = Pipe()
        let launched = try Spawner.start(args, environment: env, stdin: nil, stdout: pipe, stderr: pipe)
        let pid = launched.process.processIdentifier
        let reader = pipe.fileHandleForReading
        let (chunks, sink) = AsyncStream<Data>.makeStream()
        readOnThread(reader) { chunk in
            if let chunk { sink.yield(chunk) } else { sink.finish() }
        }
        let output = Task { () -> Data in
            var collected = Data()
            for await chunk in chunks where collected.count < Self.execOutputLimit {
                collected.append(chunk.prefix(Self.execOutputLimit - collected.count))
            }
            return collected
        }
        let timedOut = Locked(false)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            timedOut.withLock { $0 = true }
            // The shim put the command in its own process group (pid = pgid).
            if kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) }
        }
        let code = await launched.exit.value
        watchdog.cancel()
        if timedOut.withLock({ $0 }) {
            throw ExecTimeout()
        }
        // Whatever the command left running in its group would hold the pipe open.
        let data = await withTaskGroup(of: Data?.self) { group in
            group.addTask { await output.value }
            group.addTask {
                try? await Task.sleep(for: .seconds(2))
                kill(-pid, SIGKILL)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if let first { return first }
            return await output.value
        }
        return ExecResult(exitCode: code, output: String(decoding: data, as: UTF8.self))
    }

    /// With `tty`, the command runs on a pseudo-terminal (its controlling terminal) whose
    /// master the returned exec stream keeps; otherwise on pipes.
    public func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        var (args, env) = try execArguments(id, command: command)
        if tty {
            let terminal = try PseudoTerminal.open()
            args.insert(contentsOf: ["--tty", "1"], at: 2)
            if env["TERM"] == nil { env["TERM"] = "xterm" }
            let slave = FileHandle(fileDescriptor: terminal.slave, closeOnDealloc: true)
            let launched: (process: Process, exit: Task<Int32, Never>)
            do {
                launched = try Spawner.start(args, environment: env, stdin: slave, stdout: slave, stderr: slave)
            } catch {
                close(terminal.master)
                throw error
            }
            try? slave.close()
            return TerminalExecSession(pid: launched.process.processIdentifier, exit: launched.exit, master: terminal.master)
        }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        let launched = try Spawner.start(args, environment: env, stdin: stdin, stdout: stdout, stderr: stderr)
        return ProcessExecSession(pid: launched.process.processIdentifier, exit: launched.exit, stdin: stdin.fileHandleForWriting,
                                  stdout: stdout.fileHandleForReading, stderr: stderr.fileHandleForReading)
    }
}

/// A `kubectl exec` process: output read on detached tasks into one stream, stdin written
/// directly to the pipe.
final class ProcessExecSession: ExecSession {
    let output: AsyncStream<(stream: UInt8, bytes: [UInt8])>
    private let pid: pid_t
    private let exit: Task<Int32, Never>
    private let stdin: Locked<FileHandle?>

    init(pid: pid_t, exit: Task<Int32, Never>, stdin: FileHandle, stdout: FileHandle, stderr: FileHandle) {
        self.pid = pid
        self.exit = exit
        self.stdin = Locked(stdin)
        let (stream, continuation) = AsyncStream<(stream: UInt8, bytes: [UInt8])>.makeStream()
        output = stream
        let open = Locked(2)
        for (tag, handle) in [(UInt8(1), stdout), (UInt8(2), stderr)] {
            readOnThread(handle) { chunk in
                if let chunk {
                    continuation.yield((tag, [UInt8](chunk)))
                } else if open.withLock({ $0 -= 1; return $0 }) == 0 {
                    continuation.finish()
                }
            }
        }
    }

    func writeStdin(_ bytes: [UInt8]) async {
        stdin.withLock { handle in
            guard let current = handle else { return }
            do {
                try current.write(contentsOf: Data(bytes))
            } catch {
                try? current.close()
                handle = nil
            }
        }
    }

    func closeStdin() async {
        stdin.withLock { handle in
            try? handle?.close()
            handle = nil
        }
    }

    func resize(width: Int, height: Int) async {}

    func wait() async -> Int32 { await exit.value }

    func terminate() async {
        if kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) }
        await closeStdin()
    }
}

/// Reads `handle` to EOF on a thread of its own (blocking reads must stay off the cooperative
/// pool), handing each chunk to `deliver` and nil at the end; closes the handle.
func readOnThread(_ handle: FileHandle, _ deliver: @escaping @Sendable (Data?) -> Void) {
    Thread.detachNewThread {
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            deliver(chunk)
        }
        try? handle.close()
        deliver(nil)
    }
}
