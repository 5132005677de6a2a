import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One conversation over a probe connection. Lives on the channel's event loop only.
protocol ProbeSession: AnyObject {
    /// Bytes to send once connected.
    func start() -> [UInt8]
    /// Called with everything received so far; returns bytes to send and whether the
    /// conversation is over (the connection is then closed).
    func receive(_ received: [UInt8]) -> (reply: [UInt8], done: Bool)
    /// True when connecting is all there is to it (TCP probes).
    var finishesOnConnect: Bool { get }
}

extension ProbeSession {
    var finishesOnConnect: Bool { false }
}

/// What a conversation ended with.
struct ProbeExchange: Sendable {
    var received: [UInt8]
    /// The peer closed (or reset) the connection before the session said it was done.
    var closedByPeer: Bool
}

/// A tiny client for probes and hooks: connect (optionally TLS without certificate checks, as
/// the kubelet's prober does), run a `ProbeSession`, all within one deadline. NIO directly
/// rather than an HTTP client library, because gRPC needs raw HTTP/2 frames and HTTP probes
/// need control over redirects and the Host header.
enum ProbeConnection {
    struct Timeout: Error {}

    /// A shared client context: building one per probe would be wasteful.
    private static let tlsContext: Result<NIOSSLContext, any Error> = Result {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        return try NIOSSLContext(configuration: config)
    }

    /// Connects to `host:port` (TCP; TLS with SNI `serverName` when `tls`) and runs the
    /// session. Throws `Timeout` when `deadline` passes, or the connect/TLS error.
    static func exchange(host: String, port: Int, tls: Bool = false, serverName: String? = nil,
                         deadline: ContinuousClock.Instant,
                         session makeSession: @escaping @Sendable () -> any ProbeSession) async throws -> ProbeExchange {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { throw Timeout() }
        let sslContext: NIOSSLContext? = tls ? try tlsContext.get() : nil
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: ProbeExchange.self)
        let timer = loop.scheduleTask(in: remaining.timeAmount) { promise.fail(Timeout()) }
        promise.futureResult.whenComplete { _ in timer.cancel() }

        let sniName = serverName.flatMap { isIPAddress($0) ? nil : $0 }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(remaining.timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let handler = try NIOSSLClientHandler(context: sslContext, serverHostname: sniName)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler(session: makeSession(), promise: promise))
                }
            }
        bootstrap.connect(host: host, port: port).whenComplete { result in
            switch result {
            case .success(let channel):
                // Closing on completion also covers the deadline firing mid-conversation.
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            case .failure(let error):
                promise.fail(error)
            }
        }
        // Cancellation (the container is going away) ends the conversation at once.
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            promise.fail(CancellationError())
        }
    }

    /// A connect error as a short message (`connection refused`, `timeout`).
    static func describe(_ error: any Error) -> String {
        switch error {
        case is Timeout: return "context deadline exceeded"
        case let e as NIOConnectionError:
            if let first = e.connectionErrors.first { return describe(first.error) }
            if e.dnsAAAAError != nil || e.dnsAError != nil { return "no such host" }
            return "\(e)"
        case let e as IOError:
            if e.errnoCode == ECONNREFUSED { return "connect: connection refused" }
            return "\(e)"
        case is ChannelError:
            if case ChannelError.connectTimeout = error { return "i/o timeout" }
            return "\(error)"
        default: return "\(error)"
        }
    }

    static func isIPAddress(_ s: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }

    /// `host:port` with IPv6 literals bracketed, as in URLs and Host headers.
    static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Feeds inbound bytes to the session and completes the promise when it is done, the peer
/// closes, or an error happens.
private final class ExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: any ProbeSession
    private let promise: EventLoopPromise<ProbeExchange>
    private var received: [UInt8] = []
    private var finished = false

    init(session: any ProbeSession, promise: EventLoopPromise<ProbeExchange>) {
        self.session = session
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        if session.finishesOnConnect {
            finish(closedByPeer: false)
        } else {
            send(session.start(), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        let (reply, done) = session.receive(received)
        send(reply, context: context)
        if done {
            finished = true
            promise.succeed(ProbeExchange(received: received, closedByPeer: false))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(closedByPeer: true)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS peer closing without close_notify, or a reset after the response, still
        // leaves a usable response; only fail when nothing arrived.
        if received.isEmpty {
            finished = true
            promise.fail(error)
        } else {
            finish(closedByPeer: true)
        }
        context.close(promise: nil)
    }

    private func finish(closedByPeer: Bool) {
        guard !finished else { return }
        finished = true
        promise.succeed(ProbeExchange(received: received, closedByPeer: closedByPeer))
    }

    private func send(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard !bytes.isEmpty else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (s, atto) = components
        return .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
