import NIOCore
import NIOHTTP2

/// Answers etcd's HTTP/2 PINGs before the HTTP/2 handler sees them. etcd's gRPC server (Go)
/// pings after each request it receives, to size its flow-control window; NIO's HTTP/2
/// handler treats more than 200 pings in 30 seconds as a flood and closes the connection,
/// which under load would drop every call in flight every 200 requests. This handler sits
/// between the socket (or TLS) and the HTTP/2 handler, sends the ACK itself, and passes every
/// other frame through unchanged.
final class EtcdPingResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Bytes of a frame not yet complete.
    private var pending: ByteBuffer?

    static let frameHeaderSize = 9
    static let pingType: UInt8 = 0x6
    static let ackFlag: UInt8 = 0x1

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        var buffer: ByteBuffer
        if var p = pending {
            p.writeBuffer(&incoming)
            buffer = p
        } else {
            buffer = incoming
        }
        pending = nil
        var forward = context.channel.allocator.buffer(capacity: buffer.readableBytes)
        while buffer.readableBytes >= Self.frameHeaderSize {
            let start = buffer.readerIndex
            guard let b0 = buffer.getInteger(at: start, as: UInt8.self), let b12 = buffer.getInteger(at: start + 1, as: UInt16.self),
                  let type = buffer.getInteger(at: start + 3, as: UInt8.self), let flags = buffer.getInteger(at: start + 4, as: UInt8.self),
                  let stream = buffer.getInteger(at: start + 5, as: UInt32.self)
            else { break }
            let length = Int(b0) << 16 | Int(b12)
            guard buffer.readableBytes >= Self.frameHeaderSize + length else { break }
            guard var frame = buffer.readSlice(length: Self.frameHeaderSize + length) else { break }
            if type == Self.pingType && flags & Self.ackFlag == 0 && stream & 0x7fff_ffff == 0 && length == 8 {
                var ack = context.channel.allocator.buffer(capacity: Self.frameHeaderSize + 8)
                ack.writeBytes([0, 0, 8, Self.pingType, Self.ackFlag, 0, 0, 0, 0])
                frame.moveReaderIndex(forwardBy: Self.frameHeaderSize)
                ack.writeBuffer(&frame)
                context.writeAndFlush(wrapOutboundOut(ack), promise: nil)
            } else {
                forward.writeBuffer(&frame)
            }
        }
        if buffer.readableBytes > 0 { pending = buffer }
        if forward.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(forward)) }
    }

    /// Puts a responder in front of the HTTP/2 handler of a new etcd connection.
    @Sendable static func install(on channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            let sync = channel.pipeline.syncOperations
            let http2 = try sync.handler(type: NIOHTTP2Handler.self)
            try sync.addHandler(EtcdPingResponder(), position: .before(http2))
        }
    }
}
