import Foundation

/// What the process runtime needs from pod networking (PodNetwork conforms); keeps the
/// runtime testable without root and independent of how namespaces are made.
public protocol SandboxNetwork: Sendable {
    /// Idempotent: the pod's network namespace path and IP.
    func setUp(podUID: String) async throws -> SandboxStatus
    func tearDown(podUID: String) async
    /// The node's address, the pod IP of host-network pods.
    func hostIP() async -> String
}

extension PodNetwork: SandboxNetwork {}

enum HostAddress {
    /// The first non-loopback IPv4 address of the host; 127.0.0.1 when there is none.
    static func firstIPv4() -> String {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return "127.0.0.1" }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let addr = entry.pointee.ifa_addr, addr.pointee.sa_family == UInt16(AF_INET),
                  (entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK)) == 0 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(addr, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return "127.0.0.1"
    }
}

/// A lock-protected value for the few bits of shared mutable state (warn-once flags, exec
/// session state) touched from Foundation callbacks outside any actor.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

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
