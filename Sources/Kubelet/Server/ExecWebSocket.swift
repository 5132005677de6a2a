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
/// sends the exit Status on channel 3 and closes once the client has (at most 2 s later).
///
/// With `attach`, `GET /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty` instead: the
/// same streams to the container's own console (no command); leaving detaches.
struct ExecWebSocket: Sendable {
    let lookup: any PodLookup
    let runtime: any ContainerRuntime
    var attach = false
    /// Output frames carry at most this much payload.
    static let chunkSize = 32 * 1024
    /// How long, after the exit Status, the client has to close before the kubelet closes.
    /// kubectl closes at once; the official Python client waits for the server, so this is
    /// added to each of its execs: kept short.
    static let closeHandshakeTimeout: Duration = .seconds(2)

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
        guard attach || !command.isEmpty else {
            await finish(inbound, outbound, status: KubeletStatus.failure(code: 400, message: "you must specify at least one command for the container"))
            return
        }
        let session: any ExecSession
        do {
            let id = try await lookup.execTarget(namespace: params.get("ns") ?? "", pod: params.get("pod") ?? "",
                                                 container: params.get("container"))
            session = attach ? try await runtime.attach(id) : try await runtime.execStreaming(id, command: command, tty: tty)
        } catch let e as PodLookupError {
            await finish(inbound, outbound, status: KubeletStatus.failure(code: e.code, message: e.message))
            return
        } catch {
            let verb = attach ? "attach to" : "exec in"
            await finish(inbound, outbound, status: KubeletStatus.failure(code: 500, message: "cannot \(verb) the container: \(error)"))
            return
        }
        // An attach without -i leaves the container's stdin alone.
        if !wantStdin && !attach { await session.closeStdin() }
        let exited = Locked(false)
        let input = Task {
            await Self.pumpInput(inbound, session: session, proto: proto, stdin: wantStdin)
            // The client went away while the command ran: stop it.
            if !exited.withLock({ $0 }) { await session.terminate() }
        }
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
        exited.withLock { $0 = true }
        await Self.sendStatus(outbound, KubeletStatus.execExit(code))
        await Self.awaitClientClose(input, timeout: Self.closeHandshakeTimeout)
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// Waits for the client to close once it has the Status (kubectl does), at most `timeout`. Closing first would half-close the connection (our close frame,
    /// then TLS close_notify and FIN) right behind our last frames: a client still completing
    /// the upgrade when that EOF arrives (the API server's exec relay, under load) can lose it
    /// and the frames and wait forever.
    static func awaitClientClose(_ input: Task<Void, Never>, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await input.value }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            input.cancel()
            group.cancelAll()
        }
    }

    /// Client frames to the process until the client closes or goes away.
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
    }

    /// The Status on the error channel, then a normal close once the client closed (see
    /// `awaitClientClose`), for an exec that never started.
    func finish(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, status: JSONValue) async {
        await Self.sendStatus(outbound, status)
        let drain = Task {
            do { for try await _ in inbound.messages(maxSize: 1 << 20) {} } catch {}
        }
        await Self.awaitClientClose(drain, timeout: Self.closeHandshakeTimeout)
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// The Status on the error channel (channel 3): the exec's result.
    static func sendStatus(_ outbound: WebSocketOutboundWriter, _ status: JSONValue) async {
        var frame = ByteBuffer()
        frame.writeInteger(ExecStreamProtocol.error)
        frame.writeBytes(JSONWriter.bytes(status))
        try? await outbound.write(.binary(frame))
    }

    /// A Go-style boolean; anything that does not parse is false.
    static func flag(_ q: QueryParameters, _ key: String) -> Bool {
        (try? q.bool(key)) ?? false
    }
}
