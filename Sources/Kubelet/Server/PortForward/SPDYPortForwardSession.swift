import HummingbirdWebSocket
import Logging
import NIOCore

/// `kubectl port-forward` as kubectl v1.33 speaks it by default: SPDY/3.1 frames tunnelled in
/// the binary messages of a WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`), read as one
/// byte stream. For each local connection kubectl opens two streams with the same
/// `requestid` and `port` headers: `streamtype: error` (server to client only: a failure's
/// message, then FIN) and `streamtype: data` (both ways). Each gets a SYN_REPLY; the data
/// stream is then relayed to a new connection to the port inside the pod. When the pod
/// closes its side, both streams get a FIN; a client RST_STREAM closes the pod connection.
/// PINGs are answered; SETTINGS, WINDOW_UPDATE and HEADERS are ignored (the clients do no
/// flow control).
struct SPDYPortForwardSession {
    let podUID: String
    let runtime: any ContainerRuntime
    let outbound: WebSocketOutboundWriter
    let logger: Logger

    static let subprotocol = "SPDY/3.1+portforward.k8s.io"

    func run(_ inbound: WebSocketInboundStream) async {
        do {
            let compressor = try SPDYHeaderCompressor()
            let decompressor = try SPDYHeaderDecompressor()
            try await withThrowingTaskGroup(of: Void.self) { group in
                var pending = ByteBuffer()
                /// What the client sends on each data stream being relayed, to its pod connection.
                var forwards: [UInt32: AsyncStream<PodPortConnection.ClientEvent>.Continuation] = [:]
                /// Error streams by request ID, waiting for their data stream.
                var errorStreams: [String: UInt32] = [:]
                defer { for toPod in forwards.values { toPod.finish() } }
                reading: for try await message in inbound.messages(maxSize: 1 << 24) {
                    guard case .binary(var bytes) = message else { continue }
                    pending.writeBuffer(&bytes)
                    while let frame = try SPDYFrame.decode(&pending, decompressor: decompressor) {
                        switch frame {
                        case .synStream(let id, _, let headers):
                            try await send(.synReply(streamID: id, fin: false, headers: [:]), compressor)
                            let requestID = headers["requestid"] ?? String(id)
                            if headers["streamtype"] == "error" {
                                errorStreams[requestID] = id
                                continue
                            }
                            let errorStream = errorStreams.removeValue(forKey: requestID)
                            guard headers["streamtype"] == "data", let port = headers["port"].flatMap(Int.init), (1...65535).contains(port),
                                  forwards[id] == nil else {
                                let reason = "invalid port-forward stream: streamtype \(headers["streamtype"] ?? "-"), port \(headers["port"] ?? "-")"
                                try await fail(dataStream: id, errorStream: errorStream, reason)
                                continue
                            }
                            let (toPod, continuation) = AsyncStream<PodPortConnection.ClientEvent>.makeStream()
                            forwards[id] = continuation
                            group.addTask { await forward(dataStream: id, errorStream: errorStream, port: port, toPod: toPod) }
                        case .data(let id, let fin, let payload):
                            guard let toPod = forwards[id] else { continue } // the error stream's FIN, or a stream already done
                            if payload.readableBytes > 0 { toPod.yield(.data(payload)) }
                            if fin {
                                toPod.yield(.end)
                                toPod.finish()
                                forwards[id] = nil
                            }
                        case .rstStream(let id, _):
                            forwards.removeValue(forKey: id).map { $0.yield(.reset); $0.finish() }
                        case .ping(let id):
                            try await send(.ping(id: id), compressor)
                        case .goAway:
                            break reading
                        case .synReply, .ignored:
                            break
                        }
                    }
                }
                // The client is gone: nothing more can be delivered.
                group.cancelAll()
            }
        } catch {
            logger.debug("port-forward session ended", metadata: ["error": "\(error)"])
        }
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// Connects to the pod's port and relays; then FIN on both streams, or the failure on the
    /// error stream.
    private func forward(dataStream: UInt32, errorStream: UInt32?, port: Int, toPod: AsyncStream<PodPortConnection.ClientEvent>) async {
        do {
            let fd = try await runtime.connectToPodPort(podUID: podUID, port: port)
            try await PodPortConnection.relay(fd: fd, fromClient: toPod) { bytes in
                var rest = bytes
                while rest.readableBytes > 0, let chunk = rest.readSlice(length: min(rest.readableBytes, SPDYFrame.maxDataPayload)) {
                    try await send(.data(streamID: dataStream, fin: false, payload: chunk), nil)
                }
            }
            try? await send(.data(streamID: dataStream, fin: true, payload: ByteBuffer()), nil)
            if let errorStream { try? await send(.data(streamID: errorStream, fin: true, payload: ByteBuffer()), nil) }
        } catch is PodPortConnection.Reset {
            if let errorStream { try? await send(.data(streamID: errorStream, fin: true, payload: ByteBuffer()), nil) }
        } catch {
            try? await fail(dataStream: dataStream, errorStream: errorStream,
                            "error forwarding port \(port) to pod \(podUID): \(error)")
        }
    }

    /// The message on the error stream and FIN on both (what kubectl prints as the
    /// connection's error), or a reset of the data stream when there is no error stream.
    private func fail(dataStream: UInt32, errorStream: UInt32?, _ message: String) async throws {
        guard let errorStream else {
            try await send(.rstStream(streamID: dataStream, status: SPDYFrame.refusedStreamStatus), nil)
            return
        }
        try await send(.data(streamID: errorStream, fin: true, payload: ByteBuffer(string: message)), nil)
        try await send(.data(streamID: dataStream, fin: true, payload: ByteBuffer()), nil)
    }

    /// One frame as one binary message. Header-carrying frames need the connection's
    /// compressor and must be sent in the order encoded (only the reader sends them).
    private func send(_ frame: SPDYFrame, _ compressor: SPDYHeaderCompressor?) async throws {
        var buffer = ByteBuffer()
        try frame.encode(into: &buffer, compressor: compressor)
        try await outbound.write(.binary(buffer))
    }
}
