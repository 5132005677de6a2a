import Foundation

/// A helper process the benchmark starts (the fake-node kubelet), with output to a log file.
/// Used from the command's task only.
final class ChildProcess: @unchecked Sendable {
    let process: Process
    let logPath: String
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    private init(process: Process, logPath: String) {
        self.process = process
        self.logPath = logPath
    }

    static func start(binary: String, arguments: [String], log: String) throws -> ChildProcess {
        guard FileManager.default.createFile(atPath: log, contents: nil), let handle = FileHandle(forWritingAtPath: log) else {
            throw BenchError("cannot create \(log)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return ChildProcess(process: p, logPath: log)
    }

    /// SIGTERM, then SIGKILL after `grace`.
    func stop(grace: Duration = .seconds(10)) async -> LocalServer.Exit {
        await LocalServer.terminate(process, grace: grace)
    }

    /// Waits up to `timeout` for the process to end by itself, then stops it.
    func finish(within timeout: Duration) async -> LocalServer.Exit {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return await stop()
    }

    func logTail(bytes: Int = 4000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}
