import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import KubeModel
import Logging
import NIOCore

/// The remote-command stream protocols spoken over WebSocket: each binary frame starts with
/// a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error Status, 4 resize); v5 adds 255 to
/// close a stream (`{255, 0}` closes stdin), which v4 clients cannot say.
public enum ExecStreamProtocol: String, Sendable, CaseIterable {
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"

    /// The best protocol among those a client offers in `Sec-WebSocket-Protocol`.
    public static func negotiate(_ headers: HTTPFields) -> ExecStreamProtocol? {
        let offered = headers[values: .secWebSocketProtocol]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return allCases.first { offered.contains($0.rawValue) }
    }

    static let stdin: UInt8 = 0, stdout: UInt8 = 1, stderr: UInt8 = 2, error: UInt8 = 3, resize: UInt8 = 4, close: UInt8 = 255
}

/// `GET /exec/{ns}/{pod}/{container}?command=…&stdin=1&stdout=1&stderr=1&tty=0` upgraded to
/// a WebSocket: runs the command in the container and relays its streams until it exits, then
/// sends the exit Status on channel 3 and closes.
struct ExecWebSocket: Sendable {
    let lookup: any PodLookup
    let runtime: any ContainerRuntime
    /// Output frames carry at most this much payload.
    static let chunkSize = 32 * 1024

    func shouldUpgrade(_ request: Request) -> RouterShouldUpgrade {
        guard let proto = ExecStreamProtocol.negotiate(request.headers) else { return .dontUpgrade }
        return .upgrade([.secWebSocketProtocol: proto.rawValue])
    }

    func handle(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter,
                _ context: WebSocketRouterContext<KubeletRequestContext>) async {
        let params = context.requestContext.parameters
        let query = QueryParameters(context.request.uri.query)
        let proto = ExecStreamProtocol.negotiate(context.request.headers) ?? .v4
        let command = query.all("command")
        let wantStdin = Self.flag(query, "input") || Self.flag(query, "stdin")
        let wantStdout = query["stdout"].map { _ in Self.flag(query, "stdout") } ?? true
        let wantStderr = query["stderr"].map { _ in Self.flag(query, "stderr") } ?? true
        let tty = Self.flag(query, "tty")
        guard !command.isEmpty else {
            await finish(outbound, status: KubeletStatus.failure(code: 400, message: "you must specify at least one command for the container"))
            return
        }
        let session: any ExecSession
        do {
            let id = try await lookup.execTarget(namespace: params.get("ns") ?? "", pod: params.get("pod") ?? "",
                                                 container: params.get("container"))
            session = try await runtime.execStreaming(id, command: command, tty: tty)
        } catch let e as PodLookupError {
            await finish(outbound, status: KubeletStatus.failure(code: e.code, message: e.message))
            return
        } catch {
            await finish(outbound, status: KubeletStatus.failure(code: 500, message: "cannot exec in the container: \(error)"))
            return
        }
        if !wantStdin { await session.closeStdin() }
        let input = Task { await Self.pumpInput(inbound, session: session, proto: proto, stdin: wantStdin) }
        for await (stream, bytes) in session.output {
            if (stream == ExecStreamProtocol.stdout && !wantStdout) || (stream == ExecStreamProtocol.stderr && !wantStderr) { continue }
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Self.chunkSize)
                var frame = ByteBuffer()
                frame.writeInteger(stream)
                frame.writeBytes(bytes[start..<end])
                try? await outbound.write(.binary(frame))
                start = end
            }
        }
        let code = await session.wait()
        await finish(outbound, status: KubeletStatus.execExit(code))
        input.cancel()
    }

    /// Client frames to the process until the client goes away, which kills the process.
    static func pumpInput(_ inbound: WebSocketInboundStream, session: any ExecSession, proto: ExecStreamProtocol, stdin: Bool) async {
        do {
            for try await message in inbound.messages(maxSize: 1 << 20) {
                var bytes: [UInt8]
                switch message {
                case .binary(let b): bytes = Array(b.readableBytesView)
                case .text(let s): bytes = Array(s.utf8)
                }
                guard let channel = bytes.first else { continue }
                bytes.removeFirst()
                switch channel {
                case ExecStreamProtocol.stdin where stdin:
                    if !bytes.isEmpty { await session.writeStdin(bytes) }
                case ExecStreamProtocol.resize:
                    if let size = try? JSONParser.parse(bytes), let w = size["Width"]?.intValue, let h = size["Height"]?.intValue {
                        await session.resize(width: Int(w), height: Int(h))
                    }
                case ExecStreamProtocol.close where proto == .v5:
                    if bytes.first == ExecStreamProtocol.stdin { await session.closeStdin() }
                default:
                    break
                }
            }
        } catch {}
        if !Task.isCancelled { await session.terminate() }
    }

    /// The Status on the error channel, then a normal close.
    func finish(_ outbound: WebSocketOutboundWriter, status: JSONValue) async {
        var frame = ByteBuffer()
        frame.writeInteger(ExecStreamProtocol.error)
        frame.writeBytes(JSONWriter.bytes(status))
        try? await outbound.write(.binary(frame))
        try? await outbound.close(.normalClosure, reason: nil)
    }

    static func flag(_ q: QueryParameters, _ key: String) -> Bool {
        guard let v = q[key] else { return false }
        return ["1", "t", "T", "true", "TRUE", "True"].contains(v)
    }
}
