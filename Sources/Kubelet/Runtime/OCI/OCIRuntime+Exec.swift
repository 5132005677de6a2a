import Foundation

/// Commands in running containers: `runc exec` (the container's user, environment, working
/// directory, namespaces and cgroup), for probes, hooks and `kubectl exec` without a terminal.
/// With a terminal the shim's exec joins the container's network and mount namespaces
/// (the container's root) on a pseudo-terminal, as root: runc would need a console socket.
extension OCIRuntime {
    func requireRunning(_ id: ContainerID, _ command: [String]) throws {
        let record = processes.record(id)
        guard record.config() != nil, record.pid() != nil, record.exit() == nil else {
            throw ContainerStartError(reason: "ContainerNotRunning", message: "container \(id) is not running")
        }
        guard !command.isEmpty else { throw ContainerStartError(reason: "ExecError", message: "no command") }
    }

    public func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult {
        try requireRunning(id, command)
        let result: CommandResult
        do {
            let argv = runc.arguments(["exec", RuncCommand.containerName(id)] + command)
            result = try await PodNetworkCommand.run(argv[0], Array(argv.dropFirst()), timeout: timeout)
        } catch let error as PodNetworkError where error.status == nil && !error.stderr.hasPrefix("cannot start") {
            throw ExecTimeout()
        }
        let output = (result.stdout + result.stderr).prefix(ProcessRuntime.execOutputLimit)
        return ExecResult(exitCode: result.status, output: String(output))
    }

    public func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        try requireRunning(id, command)
        if tty {
            guard let pid = await runc.initPid(RuncCommand.containerName(id)) else {
                throw ContainerStartError(reason: "ContainerNotRunning", message: "container \(id) is not running")
            }
            let terminal = try PseudoTerminal.open()
            let args = [processes.shimPath, "exec", "--tty", "1", "--target-pid", String(pid), "--"] + command
            let slave = FileHandle(fileDescriptor: terminal.slave, closeOnDealloc: true)
            let launched: (process: Process, exit: Task<Int32, Never>)
            do {
                launched = try Spawner.start(args, environment: ["PATH": ImageResolver.defaultPath, "TERM": "xterm"],
                                             stdin: slave, stdout: slave, stderr: slave)
            } catch {
                close(terminal.master)
                throw error
            }
            try? slave.close()
            return TerminalExecSession(pid: launched.process.processIdentifier, exit: launched.exit, master: terminal.master)
        }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        let launched = try Spawner.start(runc.arguments(["exec", RuncCommand.containerName(id)] + command),
                                         environment: ["PATH": ImageResolver.defaultPath], stdin: stdin, stdout: stdout, stderr: stderr)
        return ProcessExecSession(pid: launched.process.processIdentifier, exit: launched.exit, stdin: stdin.fileHandleForWriting,
                                  stdout: stdout.fileHandleForReading, stderr: stderr.fileHandleForReading)
    }
}
