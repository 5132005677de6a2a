import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// How long a client may take to send a request, so slow or silent clients cannot pin
/// connections (slowloris). Responses are never timed: a watch is a long response.
public struct ConnectionTimeouts: Sendable {
    /// From connection accept, or from the first byte of a later request, until the blank line
    /// ending its headers (Go's `ReadHeaderTimeout`; kube-apiserver uses 32 s). Also bounds
    /// the TLS handshake, which happens before any request byte.
    public var header: Duration = .seconds(30)
    /// A keep-alive connection with no request in progress is closed after this (kube: 90 s).
    /// Hummingbird enforces it between requests, and also on a body that stops arriving.
    public var idle: Duration = .seconds(90)
    /// After `header` has passed since a body started, it must have averaged at least this
    /// many bytes per second (checked as bytes arrive; a stalled body hits `idle`).
    public var minBodyBytesPerSecond: Int = 1024

    public init() {}
}

/// Wraps a child channel so that `ConnectionTimeoutHandler` sits first in its pipeline (after
/// TLS, when wrapped by `ServerTLSChannel`), seeing plaintext request bytes before HTTP decoding.
struct TimeoutChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let timeouts: ConnectionTimeouts

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionTimeoutHandler(timeouts))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            // Last for now, so before the handlers Hummingbird adds once the first head is read.
            // The setup's futures complete on the channel's loop, where the pipeline is ours.
            try channel.pipeline.syncOperations.addHandler(BadRequestHandler())
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Enforces the header timeout and the body rate floor on raw bytes. It tells requests apart
/// without parsing HTTP: bytes arriving after the server has written anything start a new
/// request (HTTP/1.1 clients do not pipeline in practice), and the blank line `\r\n\r\n` ends
/// its headers. A `101 Switching Protocols` answer (exec's WebSocket) turns it off.
final class ConnectionTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Phase {
        /// Reading headers, which must end by `deadline`; `tail` holds the last bytes seen,
        /// for a blank line split across reads.
        case headers(deadline: NIODeadline, tail: [UInt8])
        case body(start: NIODeadline, bytes: Int)
        /// The server has answered (or is answering); the next byte starts a request.
        case answered
        case upgraded
    }

    let timeouts: ConnectionTimeouts
    var phase: Phase
    var timer: Scheduled<Void>?

    init(_ timeouts: ConnectionTimeouts) {
        self.timeouts = timeouts
        phase = .headers(deadline: .now() + TimeAmount(timeouts.header), tail: [])
    }

    func handlerAdded(context: ChannelHandlerContext) { armHeaderTimer(context) }
    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch phase {
        case .upgraded:
            break
        case .answered:
            phase = .headers(deadline: .now() + TimeAmount(timeouts.header), tail: [])
            armHeaderTimer(context)
            consume(buffer, context: context)
        case .headers, .body:
            consume(buffer, context: context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .upgraded = phase {} else {
            let head = statusLinePrefix(unwrapOutboundIn(data))
            if head.hasPrefix("HTTP/1.1 101") {
                phase = .upgraded
                timer?.cancel()
            } else if !head.hasPrefix("HTTP/1.1 100 ") {
                // An interim `100 Continue` leaves the body coming; anything else is the answer.
                phase = .answered
                timer?.cancel()
            }
        }
        context.write(data, promise: promise)
    }

    /// Moves through the headers of the current request and checks the body rate.
    private func consume(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        if case .headers(let deadline, let tail) = phase {
            let bytes = tail + buffer.readableBytesView
            if let end = Self.endOfHeaders(bytes) {
                timer?.cancel()
                phase = .body(start: .now(), bytes: bytes.count - end)
            } else {
                phase = .headers(deadline: deadline, tail: Array(bytes.suffix(3)))
            }
            return
        }
        guard case .body(let start, let count) = phase else { return }
        let total = count + buffer.readableBytes
        phase = .body(start: start, bytes: total)
        let elapsed = NIODeadline.now() - start
        let grace = TimeAmount(timeouts.header)
        if elapsed > grace, timeouts.minBodyBytesPerSecond > 0,
           Double(total) < Double(timeouts.minBodyBytesPerSecond) * Double(elapsed.nanoseconds) / 1e9 {
            context.close(promise: nil)
        }
    }

    private func armHeaderTimer(_ context: ChannelHandlerContext) {
        guard case .headers(let deadline, _) = phase else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self, case .headers = self.phase else { return }
            context.close(promise: nil)
        }
    }

    /// Offset just past the first `\r\n\r\n`, if any.
    static func endOfHeaders(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i + 4
        }
        return nil
    }

    private func statusLinePrefix(_ data: IOData) -> String {
        guard case .byteBuffer(let b) = data else { return "" }
        return b.getString(at: b.readerIndex, length: min(13, b.readableBytes)) ?? ""
    }
}

@available(*, unavailable)
extension ConnectionTimeoutHandler: Sendable {}

/// Answers a request the HTTP decoder cannot parse (bad request line, oversized headers) with
/// 400 or 431 and closes, as Go's server does; without it such a connection sat open, since
/// Hummingbird's own handlers are added only after a request head was parsed.
final class BadRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        let status = parse == .headerOverflow ? "431 Request Header Fields Too Large" : "400 Bad Request"
        let answer = ByteBuffer(string: "HTTP/1.1 \(status)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        // Written below the HTTP encoder, which expects response parts, not bytes.
        if let raw = try? context.pipeline.syncOperations.context(handlerType: ConnectionTimeoutHandler.self) {
            let channel = context.channel
            raw.writeAndFlush(NIOAny(IOData.byteBuffer(answer))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension BadRequestHandler: Sendable {}
