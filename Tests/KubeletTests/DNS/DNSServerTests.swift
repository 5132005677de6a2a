import KubeModel
import NIOCore
import Synchronization
import Testing
@testable import Kubelet

/// The node DNS server on real UDP and TCP sockets on loopback, forwarding to a fake upstream
/// resolver that this test starts on loopback (nothing leaves the machine).
@Suite struct DNSServerTests {
    /// Answers every question with 192.0.2.7 and remembers the names it was asked.
    final class FakeUpstream: Sendable {
        let asked = Mutex<[String]>([])

        func respond(_ packet: [UInt8], _ overTCP: Bool) -> [UInt8]? {
            guard var m = try? DNSMessageReader.parse(packet), let q = m.questions.first else { return nil }
            asked.withLock { $0.append(q.name.lowercased + (overTCP ? "/tcp" : "/udp")) }
            m.isResponse = true
            m.recursionAvailable = true
            m.answers = [DNSRecord(name: q.name, type: DNSRecordType.a, ttl: 60, data: .ipv4([192, 0, 2, 7]))]
            return DNSMessageWriter.encode(m)
        }
    }

    static func query(_ name: String, _ type: UInt16 = DNSRecordType.a, id: UInt16 = 77) -> [UInt8] {
        var q = DNSMessage(id: id)
        q.recursionDesired = true
        q.questions = [DNSQuestion(name: DNSName(name)!, type: type)]
        return DNSMessageWriter.encode(q)
    }

    /// Runs `server` while `body` runs, and stops it after. Port 0 gives the server a free UDP
    /// port, which TCP may find taken (a busy run's client connections use the same range): that
    /// server fails to start, so another try gets another port, instead of waiting for ever.
    static func serving<T: Sendable>(_ server: DNSServer, _ body: @escaping @Sendable (SocketAddress) async throws -> T) async throws -> T {
        for _ in 0..<5 {
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let served: T? = try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    // Cancelled at the end: how the sockets close is not what is tested here.
                    try? await server.run { continuation.yield($0) }
                    continuation.finish()
                    return nil
                }
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next() else { return nil }
                let result = try await body(try SocketAddress(ipAddress: "127.0.0.1", port: port))
                group.cancelAll()
                while let next = try await group.next() { _ = next }
                return result
            }
            if let served { return served }
        }
        throw DNSTestError("the DNS server did not start in five tries")
    }

    struct DNSTestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static var index: ClusterDNSIndex {
        let many = (1...120).map { i -> (ip: String, hostname: String?, ready: Bool?) in ("10.244.1.\(i)", nil, true) }
        return ClusterDNSIndex(services: [ClusterDNSResolverTests.service("web", clusterIP: "10.96.0.20"),
                                          ClusterDNSResolverTests.service("big", clusterIP: "None")],
                               endpointSlices: [ClusterDNSResolverTests.slice("big", many)])
    }

    @Test func answersTheZoneAndForwardsTheRestOverUDPAndTCP() async throws {
        let fake = FakeUpstream()
        let upstream = DNSServer(host: "127.0.0.1", port: 0, respond: { fake.respond($0, $1) })
        try await Self.serving(upstream) { upstreamAddress in
            let resolver = try #require(ClusterDNSResolver(clusterDomain: "cluster.local"))
            // A long forwarding timeout: the fake upstream answers at once, but a loaded
            // machine (the whole suite runs in parallel) can stall a task for seconds.
            let forwarder = DNSForwarder(nameservers: ["127.0.0.1:\(upstreamAddress.port ?? 0)"], timeout: .seconds(60))
            let handler = DNSQueryHandler(resolver: resolver, forwarder: forwarder, index: { Self.index })
            try await Self.serving(DNSServer(host: "127.0.0.1", port: 0, handler: handler)) { node in
                // The zone, over both transports.
                for tcp in [false, true] {
                    let bytes = tcp ? try await DNSForwarder.exchangeTCP(Self.query("web.default.svc.cluster.local"), upstream: node)
                        : try await DNSForwarder.exchangeUDP(Self.query("web.default.svc.cluster.local"), id: 77, upstream: node)
                    let reply = try DNSMessageReader.parse(bytes)
                    #expect(reply.id == 77 && reply.authoritative)
                    #expect(reply.answers.map(\.data) == [.ipv4([10, 96, 0, 20])])
                }
                #expect(fake.asked.withLock { $0 }.isEmpty)

                // Other names reach the fake upstream, over the client's transport.
                let udp = try DNSMessageReader.parse(try await DNSForwarder.exchangeUDP(Self.query("example.org", id: 5), id: 5, upstream: node))
                #expect(udp.answers.map(\.data) == [.ipv4([192, 0, 2, 7])])
                let tcp = try DNSMessageReader.parse(try await DNSForwarder.exchangeTCP(Self.query("Example.NET", id: 6), upstream: node))
                #expect(tcp.id == 6 && tcp.answers.map(\.data) == [.ipv4([192, 0, 2, 7])])
                #expect(fake.asked.withLock { $0 } == ["example.org/udp", "example.net/tcp"])

                // 120 addresses do not fit 512 bytes: TC over UDP, everything over TCP.
                let truncated = try DNSMessageReader.parse(try await DNSForwarder.exchangeUDP(Self.query("big.default.svc.cluster.local", id: 8), id: 8, upstream: node))
                #expect(truncated.truncated && truncated.answers.isEmpty)
                let full = try DNSMessageReader.parse(try await DNSForwarder.exchangeTCP(Self.query("big.default.svc.cluster.local"), upstream: node))
                #expect(!full.truncated && full.answers.count == 120)

                // Garbage with a header gets FORMERR; the server keeps answering.
                let garbage: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0x0C]
                let formerr = try DNSMessageReader.parse(try await DNSForwarder.exchangeUDP(garbage, id: 0x1234, upstream: node))
                #expect(formerr.responseCode == .formatError)
                let after = try DNSMessageReader.parse(try await DNSForwarder.exchangeTCP(Self.query("web.default.svc.cluster.local"), upstream: node))
                #expect(after.answers.count == 1)
            }
        }
    }

    @Test func noUpstreamMeansServerFailure() async throws {
        let resolver = try #require(ClusterDNSResolver(clusterDomain: "cluster.local"))
        let handler = DNSQueryHandler(resolver: resolver, forwarder: DNSForwarder(nameservers: []), index: { Self.index })
        let reply = try DNSMessageReader.parse(try #require(await handler.respond(to: Self.query("example.org"), overTCP: false)))
        #expect(reply.responseCode == .serverFailure)
        #expect(reply.questions.first?.name == DNSName("example.org"))
        // Responses and runts are never answered.
        var response = DNSMessage(id: 1)
        response.isResponse = true
        #expect(await handler.respond(to: DNSMessageWriter.encode(response), overTCP: false) == nil)
        #expect(await handler.respond(to: [1, 2, 3], overTCP: false) == nil)
    }

    @Test func nameserverEntriesAndListenAddressesParse() {
        #expect(DNSForwarder(nameservers: ["192.0.2.1", "127.0.0.1:5353", "[::1]:5300", "::1", "bogus", "1.2.3.4:99999"]).upstreams.map { $0.port } == [53, 5353, 5300, 53])
        #expect(NodeDNSOptions.listen("auto") == .podGateway)
        #expect(NodeDNSOptions.listen("off") == .off)
        #expect(NodeDNSOptions.listen("10.0.0.1") == .address(host: "10.0.0.1", port: 53))
        #expect(NodeDNSOptions.listen("127.0.0.1:5353") == .address(host: "127.0.0.1", port: 5353))
        #expect(NodeDNSOptions.listen("host:53") == nil)
        #expect(NodeDNSOptions.isValidDomain("cluster.local"))
        #expect(!NodeDNSOptions.isValidDomain("Cluster.Local"))
        #expect(!NodeDNSOptions.isValidDomain(""))
    }
}
