import APIServer
import AsyncHTTPClient
import Foundation
import KubeModel
import Logging
import ServiceLifecycle
import NIOCore
import NIOSSL
import Testing
import WSClient
@testable import Kubelet

// Test doubles and helpers shared by the kubelet server and logs/exec-through-the-API tests.

/// Finds one container's log and exec target, as the pod workers would.
struct FixedLookup: PodLookup {
    var namespace = "default"
    var pod = "p"
    var container = "c"
    var logPath: String
    var running: Bool = true
    let id = ContainerID(podUID: "uid-1", name: "c", attempt: 0)

    func logLocation(namespace: String, pod: String, container: String?, previous: Bool) async throws -> LogLocation {
        guard namespace == self.namespace, pod == self.pod else { throw PodLookupError(code: 404, message: "pod \(namespace)/\(pod) not found") }
        guard container == nil || container == self.container else {
            throw PodLookupError(code: 400, message: "container \(container ?? "") is not valid for pod \(pod)")
        }
        return LogLocation(path: previous ? logPath + ".previous" : logPath, containerID: id, running: running && !previous)
    }

    func execTarget(namespace: String, pod: String, container: String?) async throws -> ContainerID {
        guard namespace == self.namespace, pod == self.pod else { throw PodLookupError(code: 404, message: "pod \(namespace)/\(pod) not found") }
        return id
    }
}

/// A runtime that only execs: `/usr/bin/env COMMAND…` on the host, with pipes. Its one
/// container runs until `stop()`.
final class ShellRuntime: ContainerRuntime, @unchecked Sendable {
    let name = "shell"
    private let lock = NSLock()
    private var running = true
    func stop() { lock.withLock { running = false } }

    func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus { SandboxStatus(podIP: "127.0.0.1", networkNamespacePath: nil) }
    func removeSandbox(podUID: String) async throws {}
    func startContainer(_ config: ContainerConfig) async throws -> ContainerID { config.id }
    func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {}
    func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? {
        lock.withLock { running } ? .running(startedAt: Date())
            : .exited(exitCode: 0, signal: nil, reason: "Completed", startedAt: Date(), finishedAt: Date())
    }
    func listContainers() async -> [ContainerRecord] { [] }
    func removeContainer(_ id: ContainerID) async {}
    func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult { ExecResult(exitCode: 0, output: "") }
    func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        try ShellSession(command)
    }
}

final class ShellSession: ExecSession, @unchecked Sendable {
    let output: AsyncStream<(stream: UInt8, bytes: [UInt8])>
    private let process = Process()
    private let stdin = Pipe()

    init(_ command: [String]) throws {
        let stdout = Pipe(), stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        let (stream, continuation) = AsyncStream.makeStream(of: (stream: UInt8, bytes: [UInt8]).self)
        output = stream
        try process.run()
        let group = DispatchGroup()
        for (tag, pipe) in [(UInt8(1), stdout), (UInt8(2), stderr)] {
            group.enter()
            BlockingWork.start {
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    continuation.yield((tag, [UInt8](data)))
                }
                group.leave()
            }
        }
        group.notify(queue: .global()) { continuation.finish() }
    }

    func writeStdin(_ bytes: [UInt8]) async { try? stdin.fileHandleForWriting.write(contentsOf: bytes) }
    func closeStdin() async { try? stdin.fileHandleForWriting.close() }
    func resize(width: Int, height: Int) async {}
    func wait() async -> Int32 {
        let p = process
        return await BlockingWork.run { p.waitUntilExit(); return p.terminationStatus }
    }
    func terminate() async { if process.isRunning { process.terminate() } }
}

/// A temporary directory with the cluster PKI.
struct TestPKI {
    let dir: String
    let pki: PKI

    init(dir: String, pki: PKI) {
        self.dir = dir
        self.pki = pki
    }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-kl-\(UUID().uuidString)").path
        pki = try PKI.ensure(directory: dir + "/pki", serverNames: ["127.0.0.1"])
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// Client TLS with `pair` as the client certificate; the kubelet's serving cert is self-signed.
    static func clientTLS(_ pair: CertificateKeyPair?) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        if let pair {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(pair.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pair.keyPEM.utf8), format: .pem))
        }
        return tls
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return logger
}

/// Runs `services` (the last one the kubelet server) for `body` with the kubelet's bound
/// port, then shuts them down gracefully.
func withKubeletServer(_ server: KubeletServer, alongside others: [any Service] = [], _ body: (Int) async throws -> Void) async throws {
    // A connection left open must not hold the shutdown until the suite's time limit.
    var configuration = ServiceGroupConfiguration(services: others + [server], logger: quietLogger())
    configuration.maximumGracefulShutdownDuration = .seconds(60)
    let group = ServiceGroup(configuration: configuration)
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            var port: Int?
            for _ in 0..<400 {
                port = await server.boundPort()
                if port != nil { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            try await body(try #require(port))
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

/// GET over HTTPS: status and body.
func httpsGet(_ url: String, tls: TLSConfiguration) async throws -> (Int, String) {
    var request = HTTPClientRequest(url: url)
    request.tlsConfiguration = tls
    // Generous: a parallel unit run on two loaded cores can take seconds per step.
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: body))
}

/// What an exec session produced: output per channel and the channel-3 Status.
struct ExecTranscript {
    var stdout = ""
    var stderr = ""
    var status = ""
}

struct ExecSessionTimedOut: Error, CustomStringConvertible {
    var transcript: ExecTranscript
    var description: String { "the exec session did not close within its deadline; it received \(transcript)" }
}

/// Runs an exec WebSocket session: sends `stdin` (then closes it, v5), collects frames until
/// close. A session still open after `deadline` fails with what it received so far, so a
/// hang names its step instead of running into the suite's time limit.
func execSession(_ url: String, tls: TLSConfiguration, protocol proto: String = "v5.channel.k8s.io",
                 stdin: String? = nil, deadline: Duration = .seconds(60)) async throws -> ExecTranscript {
    let transcript = LockedTranscript()
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await runExecSession(url, tls: tls, protocol: proto, stdin: stdin, into: transcript)
            return true
        }
        group.addTask {
            try await Task.sleep(for: deadline)
            return false
        }
        let closed = try await group.next() ?? false
        group.cancelAll()
        if !closed { throw ExecSessionTimedOut(transcript: transcript.value) }
    }
    return transcript.value
}

private func runExecSession(_ url: String, tls: TLSConfiguration, protocol proto: String, stdin: String?,
                            into transcript: LockedTranscript) async throws {
    try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20, additionalHeaders: [.secWebSocketProtocol: proto], sniHostname: "localhost"),
                                      tlsConfiguration: tls, logger: quietLogger()) { inbound, outbound, _ in
        if let stdin {
            var frame = ByteBuffer(bytes: [0])
            frame.writeString(stdin)
            try await outbound.write(.binary(frame))
            if proto.hasPrefix("v5") { try await outbound.write(.binary(ByteBuffer(bytes: [255, 0]))) }
        }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .binary(var b) = message, let channel: UInt8 = b.readInteger() else { continue }
            transcript.add(channel, String(buffer: b))
        }
    }
}

final class LockedTranscript: @unchecked Sendable {
    private let lock = NSLock()
    private var t = ExecTranscript()
    var value: ExecTranscript { lock.withLock { t } }
    func add(_ channel: UInt8, _ s: String) {
        lock.withLock {
            switch channel {
            case 1: t.stdout += s
            case 2: t.stderr += s
            case 3: t.status += s
            default: break
            }
        }
    }
}
