import Foundation
import KubeClient

/// A `caravel server` started by the benchmark on a temporary data dir and a free port, so one
/// command yields the figures. Used from the command's task only.
final class LocalServer {
    let process: Process
    /// Temporary directory holding `data/` and `server.log`; removed by `cleanup()`.
    let baseDir: String
    let port: Int
    var dataDir: String { baseDir + "/data" }
    var logPath: String { baseDir + "/server.log" }
    var kubeconfigPath: String { dataDir + "/kubeconfig.yaml" }
    var pid: Int32 { process.processIdentifier }

    private init(process: Process, baseDir: String, port: Int) {
        self.process = process
        self.baseDir = baseDir
        self.port = port
    }

    /// Launches `binary server --data-dir <tmp>/data --port <free> extraArguments…` with output to
    /// `server.log`; `files` (name → text) are written into the data dir first (`tokens.csv`).
    static func start(binary: String, extraArguments: [String] = [], files: [String: String] = [:]) throws -> LocalServer {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("--start-server: \(binary) is not an executable file")
        }
        let fm = FileManager.default
        let base = fm.temporaryDirectory.appendingPathComponent("caravel-bench-\(UUID().uuidString.prefix(8))").path
        try fm.createDirectory(atPath: base + "/data", withIntermediateDirectories: true)
        for (name, text) in files {
            guard fm.createFile(atPath: base + "/data/" + name, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw BenchError("cannot write \(name) in \(base)/data")
            }
        }
        let port = try freePort()
        let log = base + "/server.log"
        guard fm.createFile(atPath: log, contents: nil), let logHandle = FileHandle(forWritingAtPath: log) else {
            throw BenchError("cannot create \(log)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        // --kubelet-port 0: a fixed 10250 would clash with another server or kubelet on the machine.
        p.arguments = ["server", "--data-dir", base + "/data", "--port", String(port), "--kubelet-port", "0"] + extraArguments
        p.standardOutput = logHandle
        p.standardError = logHandle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return LocalServer(process: p, baseDir: base, port: port)
    }

    /// Waits until the kubeconfig exists and `/readyz` answers 200, then hands back a client
    /// built from that kubeconfig (the caller shuts it down).
    func waitReady(options: KubeRESTClient.Options, timeout: Duration = .seconds(90)) async throws -> KubeRESTClient {
        let deadline = ContinuousClock.now + timeout
        var client: KubeRESTClient?
        var last = "kubeconfig not written yet"
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                try? await client?.shutdown()
                throw BenchError("server exited with status \(process.terminationStatus) before becoming ready; log:\n\(logTail())")
            }
            do {
                if client == nil, FileManager.default.fileExists(atPath: kubeconfigPath) {
                    client = try KubeRESTClient(kubeconfigPath: kubeconfigPath, options: options)
                }
                if let client {
                    _ = try await client.raw("GET", "/readyz")
                    return client
                }
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        try? await client?.shutdown()
        throw BenchError("server not ready after \(timeout) (\(last)); log:\n\(logTail())")
    }

    /// How the server ended: its exit status, or the signal that ended it.
    struct Exit: CustomStringConvertible {
        var status: Int32
        var bySignal: Bool
        /// SIGTERM was ignored for the whole grace period, so SIGKILL was sent.
        var killed: Bool
        var clean: Bool { !bySignal && status == 0 }
        var description: String {
            if killed { return "ignored SIGTERM, killed with SIGKILL" }
            return bySignal ? "ended by signal \(status)" : "exited with status \(status)"
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    @discardableResult
    func stop(grace: Duration = .seconds(10)) async -> Exit {
        await Self.terminate(process, grace: grace)
    }

    /// SIGTERM to `process`, SIGKILL after `grace`; how it ended. Shared with `ChildProcess`.
    static func terminate(_ process: Process, grace: Duration) async -> Exit {
        let pid = process.processIdentifier
        var killed = false
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + grace
            while process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                kill(pid, SIGKILL)
                killed = true
            }
        }
        process.waitUntilExit()
        return Exit(status: process.terminationStatus, bySignal: process.terminationReason == .uncaughtSignal, killed: killed)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: baseDir)
    }

    func logTail(bytes: Int = 4000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "(no log)" }
        return String(decoding: data.suffix(bytes), as: UTF8.self)
    }
}

/// A TCP port that was free a moment ago (bind to port 0, read it back, release it).
func freePort() throws -> Int {
    #if os(Linux)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw BenchError("socket() failed: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
        }
    }
    guard bound else { throw BenchError("cannot bind a free port: errno \(errno)") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
