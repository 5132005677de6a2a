import Foundation
import NIOCore
import Synchronization
import NIOPosix

/// The node DNS server's sockets: UDP and TCP on one address and port, each query answered
/// in a task of its own (normally by a `DNSQueryHandler`). Runs until cancelled.
public struct DNSServer: Sendable {
    public typealias Respond = @Sendable (_ packet: [UInt8], _ overTCP: Bool) async -> [UInt8]?
    public let host: String
    public let port: Int
    let respond: Respond
    /// Queries in flight at once per socket; more are dropped (the client retries).
    static let maxInFlight = 256
    static let tcpIdleTimeout: TimeAmount = .seconds(10)

    public init(host: String, port: Int, handler: DNSQueryHandler) {
        self.init(host: host, port: port, respond: { await handler.respond(to: $0, overTCP: $1) })
    }

    public init(host: String, port: Int, respond: @escaping Respond) {
        self.host = host
        self.port = port
        self.respond = respond
    }

    /// Binds both sockets (throws when either cannot be bound), calls `ready` with the bound
    /// port, then serves until cancelled.
    public func run(ready: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let udp = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_IP), Self.ipFreebind), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = udp.channel.localAddress?.port ?? port
        let tcp: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.socket(SocketOptionLevel(IPPROTO_IP), Self.ipFreebind), value: 1)
                .bind(host: host, port: boundPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.tcpIdleTimeout))
                        try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            try? await udp.channel.close()
            throw error
        }
        await ready(boundPort)
        let channels = [udp.channel, tcp.channel]
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await serveUDP(udp) }
                group.addTask { try await serveTCP(tcp) }
                _ = try await group.next()
                group.cancelAll()
            }
        } onCancel: {
            for channel in channels { channel.close(promise: nil) }
        }
    }

    /// IP_FREEBIND: the pod bridge may get its gateway address after the server starts.
    static let ipFreebind: Int32 = 15

    private func serveUDP(_ udp: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>) async throws {
        try await udp.executeThenClose { inbound, outbound in
            try await withThrowingDiscardingTaskGroup { group in
                let inFlight = InFlightCounter(limit: Self.maxInFlight)
                for try await envelope in inbound {
                    guard inFlight.enter() else { continue }
                    let packet = Array(envelope.data.readableBytesView)
                    group.addTask {
                        defer { inFlight.leave() }
                        guard let reply = await respond(packet, false) else { return }
                        try? await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply)))
                    }
                }
            }
        }
    }

    private func serveTCP(_ tcp: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>) async throws {
        try await tcp.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await serveConnection(connection) }
                }
            }
        }
    }

    /// Messages on one connection are answered in order; a malformed frame ends it.
    private func serveConnection(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        try? await connection.executeThenClose { inbound, outbound in
            var framer = DNSStreamFramer()
            for try await chunk in inbound {
                framer.append(chunk)
                while let message = try framer.next() {
                    guard let reply = await respond(message, true) else { continue }
                    var framed = ByteBuffer()
                    framed.writeInteger(UInt16(clamping: reply.count))
                    framed.writeBytes(reply.prefix(65535))
                    try await outbound.write(framed)
                }
            }
        }
    }
}

/// Closes a TCP connection that has been silent for the idle timeout.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// A bound on concurrent work that sheds load instead of queueing it.
final class InFlightCounter: Sendable {
    private let count = Mutex<Int>(0)
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func enter() -> Bool {
        count.withLock { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}
