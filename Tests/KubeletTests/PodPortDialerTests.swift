import Foundation
import NIOCore
import NIOPosix
import Testing
import KubeModel
import KubeTesting
@testable import Kubelet

/// Connections to a port on the node's loopback (a host-network pod): a real listener.
@Suite struct PodPortDialerTests {
    @Test func connectsAndRelaysBothWays() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        let port = try #require(server.channel.localAddress?.port)
        try await withThrowingTaskGroup(of: Void.self) { group in
            // An upper-casing echo that closes after the client's half-close.
            group.addTask {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        try await connection.executeThenClose { inbound, outbound in
                            for try await bytes in inbound {
                                try await outbound.write(ByteBuffer(string: String(buffer: bytes).uppercased()))
                            }
                        }
                        return
                    }
                }
            }
            let fd = try await PodPortDialer.connect(netns: nil, port: port)
            let (toPod, input) = AsyncStream<PodPortConnection.ClientEvent>.makeStream()
            input.yield(.data(ByteBuffer(string: "hello ")))
            input.yield(.data(ByteBuffer(string: "pod")))
            input.yield(.end)
            let received = Locked("")
            try await PodPortConnection.relay(fd: fd, fromClient: toPod) { bytes in received.withLock { $0 += String(buffer: bytes) } }
            #expect(received.withLock { $0 } == "HELLO POD")
            try await group.next()
        }
    }

    @Test func aClosedPortIsRefusedAsGoSaysIt() async throws {
        let held = try BoundLoopbackSocket()
        defer { held.close() }
        let port = held.port
        await #expect(throws: PodPortDialError.self) { _ = try await PodPortDialer.connect(netns: nil, port: port) }
        do {
            _ = try await PodPortDialer.connect(netns: nil, port: port)
        } catch let e as PodPortDialError {
            #expect(e.message == "dial tcp4 127.0.0.1:\(port): connect: connection refused")
        }
        await #expect(throws: PodPortDialError.self) { _ = try await PodPortDialer.connect(netns: nil, port: 70000) }
        await #expect(throws: PodPortDialError.self) { _ = try await PodPortDialer.connect(netns: "/nonexistent/netns", port: 80) }
    }
}
