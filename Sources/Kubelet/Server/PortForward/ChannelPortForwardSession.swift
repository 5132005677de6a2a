import HummingbirdWebSocket
import Logging
import NIOCore

/// Port forwarding over `v4.channel.k8s.io` WebSocket framing, as the official Python client
/// speaks it: the ports come from `?ports=8080,9090`; port `i` has a data channel `2i` and an
/// error channel `2i+1`, each message starting with its channel byte. The server's first
/// message on each channel is the port number (2 bytes, little-endian). One connection per
/// port, opened at once; when every connection is done the WebSocket is closed.
struct ChannelPortForwardSession {
    let podUID: String
    let ports: [Int]
    let runtime: any ContainerRuntime
    let outbound: WebSocketOutboundWriter
    let logger: Logger

    static let subprotocol = "v4.channel.k8s.io"

    func run(_ inbound: WebSocketInboundStream) async {
        var toPods: [AsyncStream<PodPortConnection.ClientEvent>.Continuation] = []
        var streams: [AsyncStream<PodPortConnection.ClientEvent>] = []
        for _ in ports {
            let (stream, continuation) = AsyncStream<PodPortConnection.ClientEvent>.makeStream()
            streams.append(stream)
            toPods.append(continuation)
        }
        let inputs = toPods
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .binary(var bytes) = message, let channel = bytes.readInteger(as: UInt8.self) else { continue }
                        // Data channels only; the error channels are the server's.
                        let index = Int(channel) / 2
                        if channel % 2 == 0, index < inputs.count, bytes.readableBytes > 0 { inputs[index].yield(.data(bytes)) }
                    }
                } catch {}
                for input in inputs { input.yield(.reset); input.finish() }
            }
            await withTaskGroup(of: Void.self) { connections in
                for (index, port) in ports.enumerated() {
                    let stream = streams[index]
                    connections.addTask { await forward(index: index, port: port, fromClient: stream) }
                }
            }
            try? await outbound.close(.normalClosure, reason: nil)
            group.cancelAll()
        }
    }

    private func forward(index: Int, port: Int, fromClient: AsyncStream<PodPortConnection.ClientEvent>) async {
        let data = UInt8(2 * index), errorChannel = UInt8(2 * index + 1)
        for channel in [data, errorChannel] {
            var first = ByteBuffer()
            first.writeInteger(channel)
            first.writeInteger(UInt16(port), endianness: .little)
            try? await outbound.write(.binary(first))
        }
        do {
            let fd = try await runtime.connectToPodPort(podUID: podUID, port: port)
            try await PodPortConnection.relay(fd: fd, fromClient: fromClient) { bytes in
                var rest = bytes
                while rest.readableBytes > 0, let chunk = rest.readSlice(length: min(rest.readableBytes, 32 * 1024)) {
                    var frame = ByteBuffer()
                    frame.writeInteger(data)
                    frame.writeImmutableBuffer(chunk)
                    try await outbound.write(.binary(frame))
                }
            }
        } catch is PodPortConnection.Reset {
        } catch {
            var frame = ByteBuffer()
            frame.writeInteger(errorChannel)
            frame.writeString("error forwarding port \(port) to pod \(podUID): \(error)")
            try? await outbound.write(.binary(frame))
        }
    }
}
