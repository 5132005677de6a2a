import Foundation

/// Spawns child processes with Foundation.Process, which reaps them (no zombies).
enum Spawner {
    /// The wait status as Kubernetes reports it: the exit code, or 128 + signal.
    static func exitCode(_ process: Process) -> Int32 {
        process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Starts `arguments` (the first is the executable) and returns the process and a
    /// continuation-backed wait for its exit code.
    static func start(_ arguments: [String], environment: [String: String], stdin: Any?, stdout: Any?, stderr: Any?)
        throws -> (process: Process, exit: Task<Int32, Never>) {
        guard let executable = arguments.first else { throw CocoaError(.executableNotLoadable) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        process.standardInput = stdin ?? FileHandle.nullDevice
        process.standardOutput = stdout ?? FileHandle.nullDevice
        process.standardError = stderr ?? FileHandle.nullDevice
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            continuation.yield(exitCode(finished))
            continuation.finish()
        }
        try process.run()
        let exit = Task<Int32, Never> {
            for await code in stream { return code }
            return -1
        }
        return (process, exit)
    }

    /// Environment list (`NAME=value`) as a dictionary.
    static func dictionary(_ env: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in env {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            result[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        return result
    }
}
