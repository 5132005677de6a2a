import Foundation
import KubeModel

/// A failed network setup step: the command as run and what it said.
public struct PodNetworkError: Error, Sendable, CustomStringConvertible {
    public var command: String
    public var status: Int32?
    public var stderr: String

    public init(command: String, status: Int32?, stderr: String) {
        self.command = command
        self.status = status
        self.stderr = stderr
    }

    public var description: String {
        let outcome = status.map { "exited \($0)" } ?? "timed out"
        let said = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        return "`\(command)` \(outcome)" + (said.isEmpty ? "" : ": \(said)")
    }
}

struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs helper programs (`ip`, `nft`, `iptables`) without blocking the actor's thread, killing
/// them after a timeout so a wedged netlink call cannot hang pod setup forever.
enum PodNetworkCommand {
    static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    static func find(_ program: String) -> String? {
        searchPath.map { $0 + "/" + program }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs the program and returns its output whatever the exit status; throws only when it
    /// cannot start or exceeds the timeout.
    /// `input` is written to its standard input (a few kilobytes at most: it must fit the pipe).
    static func run(_ executable: String, _ arguments: [String], input: String? = nil, timeout: Duration = .seconds(10)) async throws -> CommandResult {
        let commandLine = ([executable] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw PodNetworkError(command: commandLine, status: nil, stderr: "cannot start: \(error)")
        }
        if let inputPipe, let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try? inputPipe.fileHandleForWriting.close()
        }
        let pid = process.processIdentifier
        let state = CommandState()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            state.killIfRunning(pid)
        }

        // Both pipes drain on their own threads so a chatty child cannot fill one and stall;
        // both block, so neither is a thread of the task pool.
        let result: CommandResult = await BlockingWork.run {
            let group = DispatchGroup()
            let errBox = DataBox()
            group.enter()
            BlockingWork.start {
                errBox.data = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            process.waitUntilExit()
            state.finish()
            return CommandResult(status: process.terminationStatus,
                                 stdout: String(decoding: outData, as: UTF8.self),
                                 stderr: String(decoding: errBox.data, as: UTF8.self))
        }
        if state.timedOut {
            throw PodNetworkError(command: commandLine, status: nil, stderr: "killed after \(timeout)")
        }
        return result
    }
}

/// Shared by the timeout and the reaper, so the timeout never signals a finished process.
private final class CommandState: @unchecked Sendable {
    private let lock = NSLock()
    private var finished = false
    private var killed = false

    func killIfRunning(_ pid: pid_t) {
        lock.withLock {
            guard !finished else { return }
            killed = true
            kill(pid, SIGKILL)
        }
    }

    func finish() { lock.withLock { finished = true } }
    var timedOut: Bool { lock.withLock { killed } }
}

/// Filled by the stderr reader before `group.leave()`, read after `group.wait()`.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
