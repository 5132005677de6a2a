import NIOCore
import NIOPosix
import Testing
@testable import APIServer

/// The subject of a connection's client certificate is read once and forgotten when the connection closes.
@Suite struct ConnectionCertificatesTests {
    @Test func aConnectionsEntryGoesWithIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()

        let table = ConnectionCertificates()
        // Plain TCP: no TLS handler, so no certificate, remembered as such.
        #expect(await table.subject(of: client) == nil)
        #expect(await table.subject(of: client) == nil)
        #expect(table.count == 1)

        try await client.close()
        for _ in 0..<100 where table.count > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(table.count == 0)
        // A closed connection asked again is not remembered past its close.
        #expect(await table.subject(of: client) == nil)
        for _ in 0..<100 where table.count > 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(table.count == 0)

        try await server.close()
        try await group.shutdownGracefully()
    }
}
