import Foundation
import HTTPTypes
import KubeModel
import Logging
import NIOCore
import WSClient

/// What to run in a container and which streams to attach.
public struct ExecRequest: Sendable {
    public var namespace: String
    public var pod: String
    public var container: String?
    public var command: [String]
    public var stdin: Bool
    public var tty: Bool

    public init(namespace: String, pod: String, container: String?, command: [String], stdin: Bool, tty: Bool) {
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.command = command
        self.stdin = stdin
        self.tty = tty
    }
}

/// How a remote command ended: its exit code, or the server's `Status` when it failed otherwise.
public struct ExecResult: Sendable, Equatable {
    public var exitCode: Int32
    /// Set when the command could not run (not found, container not running, ...).
    public var failure: KubeAPIError?
}

/// `pods/exec` over WebSocket with the Kubernetes stream protocols (`v5.channel.k8s.io`,
/// falling back to `v4.channel.k8s.io`): every binary frame starts with a channel byte
/// (0 stdin, 1 stdout, 2 stderr, 3 error `Status`, 4 terminal resize; v5's 255 closes a stream).
public enum PodExec {
    public static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    static let maxFrameSize = 1 << 20

    /// The `wss://` (or `ws://`) URL with one `command=` per argument.
    public static func url(server: String, _ r: ExecRequest) -> String {
        var base = server
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) } else if base.hasPrefix("http://") { base = "ws://" + base.dropFirst(7) }
        let path = ResourcePath.core("pods", namespace: r.namespace, name: r.pod).path + "/exec"
        var query = r.command.map { "command=" + PercentEncoding.encode($0) }
        if let c = r.container { query.append("container=" + PercentEncoding.encode(c)) }
        query += ["stdout=true", "stderr=\(r.tty ? "false" : "true")"]
        if r.stdin { query.append("stdin=true") }
        if r.tty { query.append("tty=true") }
        return base + path + "?" + query.joined(separator: "&")
    }

    /// The exit code a `Status` on the error channel stands for.
    public static func result(fromStatus status: JSONValue) -> ExecResult {
        if status["status"]?.stringValue == "Success" { return ExecResult(exitCode: 0, failure: nil) }
        if status["reason"]?.stringValue == "NonZeroExitCode",
           let cause = status["details"]?["causes"]?.arrayValue?.first(where: { $0["reason"]?.stringValue == "ExitCode" }),
           let code = cause["message"]?.stringValue.flatMap({ Int32($0) }) {
            return ExecResult(exitCode: code, failure: nil)
        }
        return ExecResult(exitCode: 1, failure: KubeAPIError(status: status, httpCode: 500, httpReason: "Internal Server Error"))
    }

    /// Runs the command. `input` feeds stdin (its end closes the remote stdin), `resizes` sends
    /// terminal sizes (columns, rows); output goes to `stdout` / `stderr` as it arrives.
    public static func run(
        _ r: ExecRequest, connection: ClusterConnection,
        input: AsyncStream<[UInt8]>?, resizes: AsyncStream<(UInt16, UInt16)>?,
        stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> ExecResult {
        var headers = HTTPFields()
        headers[.secWebSocketProtocol] = protocols.joined(separator: ", ")
        if let auth = try Transport.authorization(for: connection) { headers[.authorization] = auth }
        let tls = try Transport.tlsConfiguration(for: connection)
        let host = URLComponents(string: connection.server)?.host
        // TLS forbids an IP address as SNI; loopback servers present `localhost` in their certificate.
        let sni = host.map { $0.first?.isNumber == true || $0.contains(":") ? "localhost" : $0 }
        let config = WebSocketClientConfiguration(maxFrameSize: maxFrameSize, additionalHeaders: headers, sniHostname: sni)
        let status = StatusBox()
        let logger = Logger(label: "kubeclient.exec", factory: { _ in SwiftLogNoOpLogHandler() })
        try await WebSocketClient.connect(url: url(server: connection.server, r), configuration: config,
                                          tlsConfiguration: tls, logger: logger) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let input {
                    group.addTask {
                        for await chunk in input {
                            var frame = ByteBuffer()
                            frame.writeInteger(UInt8(0))
                            frame.writeBytes(chunk)
                            try await outbound.write(.binary(frame))
                        }
                        var close = ByteBuffer()
                        close.writeBytes([255, 0])
                        try await outbound.write(.binary(close))
                        // Keep the task alive so the group does not end before the output does.
                        try await Task.sleep(for: .seconds(86400 * 365))
                    }
                }
                if let resizes {
                    group.addTask {
                        for await (cols, rows) in resizes {
                            var frame = ByteBuffer()
                            frame.writeInteger(UInt8(4))
                            frame.writeBytes(JSONWriter.bytes(["Width": .int(Int64(cols)), "Height": .int(Int64(rows))]))
                            try await outbound.write(.binary(frame))
                        }
                        try await Task.sleep(for: .seconds(86400 * 365))
                    }
                }
                // The Status is the last frame: close then, as kubectl does, rather than wait for the server.
                reading: for try await message in inbound.messages(maxSize: maxFrameSize) {
                    guard case .binary(var buffer) = message, let channel = buffer.readInteger(as: UInt8.self) else { continue }
                    let bytes = Array(buffer.readableBytesView)
                    switch channel {
                    case 1: stdout(bytes)
                    case 2: stderr(bytes)
                    case 3:
                        if let s = try? JSONParser.parse(bytes) { status.set(s) }
                        break reading
                    default: break
                    }
                }
                group.cancelAll()
            }
        }
        guard let s = status.get() else { return ExecResult(exitCode: 0, failure: nil) }
        return result(fromStatus: s)
    }
}

/// The error-channel Status, written by the reading loop and read after the connection closes.
private final class StatusBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: JSONValue?
    func set(_ v: JSONValue) { lock.lock(); value = v; lock.unlock() }
    func get() -> JSONValue? { lock.lock(); defer { lock.unlock() }; return value }
}
