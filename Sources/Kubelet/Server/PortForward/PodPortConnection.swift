import NIOCore
import NIOPosix

/// One forwarded TCP connection into a pod: bytes from the client to the pod's socket and
/// back, whatever the stream protocol around them (SPDY streams or WebSocket channels).
enum PodPortConnection {
    /// What the client side delivers for the connection.
    enum ClientEvent: Sendable {
        case data(ByteBuffer)
        /// The client sends no more (the pod's socket is half-closed for writing).
        case end
        /// The client gave the connection up.
        case reset
    }

    struct Reset: Error {}

    /// How long a pod may keep its side open once the client has closed its own.
    static let closeGrace: Duration = .seconds(1)

    /// Relays until the pod closes its side (everything it sent delivered by `toClient`) or the
    /// client resets; closes the socket `fd` either way.
    static func relay(fd: Int32, fromClient: AsyncStream<ClientEvent>,
                      toClient: @escaping @Sendable (ByteBuffer) async throws -> Void) async throws {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .withConnectedSocket(fd) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel,
                                                                    configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
        } catch {
            close(fd)
            throw error
        }
        let underlying = channel.channel
        try await withTaskCancellationHandler {
            try await channel.executeThenClose { podIn, podOut in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        for await event in fromClient {
                            switch event {
                            case .data(let bytes): try await podOut.write(bytes)
                            case .end: podOut.finish(); return false
                            case .reset: throw Reset()
                            }
                        }
                        return false
                    }
                    group.addTask {
                        for try await bytes in podIn { try await toClient(bytes) }
                        return true
                    }
                    // The pod closing its side ends the connection. The client ending its side
                    // half-closes the pod's socket; its answer still comes back, but a server that
                    // keeps a half-closed connection open gets `closeGrace`, as with containerd.
                    while let podDone = try await group.next() {
                        if podDone { break }
                        group.addTask {
                            try await Task.sleep(for: closeGrace)
                            return true
                        }
                    }
                    group.cancelAll()
                }
            }
        } onCancel: {
            // The session is over: no task may stay parked on the socket.
            underlying.close(promise: nil)
        }
    }
}
