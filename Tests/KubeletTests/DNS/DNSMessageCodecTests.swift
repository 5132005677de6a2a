import NIOCore
import Testing
@testable import Kubelet

@Suite struct DNSMessageCodecTests {
    func name(_ text: String) throws -> DNSName { try #require(DNSName(text)) }

    @Test func queryRoundTrips() throws {
        var query = DNSMessage(id: 0xBEEF)
        query.recursionDesired = true
        query.questions = [DNSQuestion(name: try name("web.default.svc.cluster.local"), type: DNSRecordType.a)]
        let bytes = DNSMessageWriter.encode(query)
        #expect(Array(bytes.prefix(4)) == [0xBE, 0xEF, 0x01, 0x00])
        #expect(try DNSMessageReader.parse(bytes) == query)
    }

    @Test func responseWithEveryRecordKindRoundTrips() throws {
        var m = DNSMessage(id: 7)
        m.isResponse = true
        m.authoritative = true
        m.recursionAvailable = true
        m.responseCode = .nameError
        let zone = try name("cluster.local")
        m.questions = [DNSQuestion(name: try name("_http._tcp.web.default.svc.cluster.local"), type: DNSRecordType.srv)]
        m.answers = [
            DNSRecord(name: try name("web.default.svc.cluster.local"), type: DNSRecordType.a, ttl: 5, data: .ipv4([10, 96, 0, 20])),
            DNSRecord(name: try name("ext.default.svc.cluster.local"), type: DNSRecordType.cname, ttl: 5, data: .name(try name("example.org"))),
            DNSRecord(name: m.questions[0].name, type: DNSRecordType.srv, ttl: 5,
                      data: .srv(priority: 0, weight: 50, port: 8080, target: try name("web.default.svc.cluster.local"))),
            DNSRecord(name: try name("1.0.96.10.in-addr.arpa"), type: DNSRecordType.ptr, ttl: 5, data: .name(try name("kubernetes.default.svc.cluster.local"))),
            DNSRecord(name: try name("web.default.svc.cluster.local"), type: DNSRecordType.aaaa, ttl: 5, data: .raw(Array(repeating: 0, count: 15) + [1])),
        ]
        m.authority = [DNSRecord(name: zone, type: DNSRecordType.soa, ttl: 5,
                                 data: .soa(primary: try name("ns.dns.cluster.local"), mailbox: try name("hostmaster.cluster.local"),
                                            serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5))]
        m.additional = [DNSRecord(name: DNSName(labels: []), type: DNSRecordType.opt, dnsClass: 1232, ttl: 0, data: .raw([]))]
        let bytes = DNSMessageWriter.encode(m)
        #expect(try DNSMessageReader.parse(bytes) == m)
        // Repeated suffixes are written once: far smaller than the names spelled out.
        let spelledOut = m.answers.reduce(0) { $0 + $1.name.wireLength } + m.questions[0].name.wireLength
        #expect(bytes.count < spelledOut + 100)
    }

    @Test func namesCompareWithoutCaseAndKeepTheirSpelling() throws {
        let mixed = try name("Web.Default.SVC.cluster.local")
        #expect(mixed == (try name("web.default.svc.cluster.local")))
        #expect(mixed.labels(under: try name("CLUSTER.local")) == ["web", "default", "svc"])
        var q = DNSMessage(id: 1)
        q.questions = [DNSQuestion(name: mixed, type: DNSRecordType.a)]
        let parsed = try DNSMessageReader.parse(DNSMessageWriter.encode(q))
        #expect(parsed.questions[0].name.description == "Web.Default.SVC.cluster.local.")
    }

    @Test func namesKeepToTheLabelAndLengthLimits() {
        #expect(DNSName(String(repeating: "a", count: 63) + ".local") != nil)
        #expect(DNSName(String(repeating: "a", count: 64) + ".local") == nil)
        #expect(DNSName("a..b") == nil)
        let long = Array(repeating: String(repeating: "b", count: 60), count: 5).joined(separator: ".")
        #expect(DNSName(long) == nil)
        #expect(DNSName(".")?.labels.isEmpty == true)
    }

    /// Header: id 1, QR=0, 1 question.
    static let header: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]

    @Test func compressionPointersAreFollowed() throws {
        // Question "a.b." at 12; an answer whose name is "c" + pointer to "b." (offset 14).
        var bytes: [UInt8] = [0, 1, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0]
        bytes += [1, 97, 1, 98, 0, 0, 1, 0, 1]
        bytes += [1, 99, 0xC0, 14, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 10, 0, 0, 1]
        let m = try DNSMessageReader.parse(bytes)
        #expect(m.questions[0].name.lowercased == "a.b")
        #expect(m.answers[0].name.lowercased == "c.b")
        #expect(m.answers[0].data == .ipv4([10, 0, 0, 1]))
    }

    @Test(arguments: [
        // A pointer to itself.
        DNSMessageCodecTests.header + [0xC0, 12, 0, 1, 0, 1],
        // A pointer forwards, to a pointer back to it.
        DNSMessageCodecTests.header + [0xC0, 14, 0xC0, 12, 0, 1, 0, 1],
        // A label that points back to the label in front of it: a loop growing the name.
        DNSMessageCodecTests.header + [1, 97, 0xC0, 12, 0, 1, 0, 1],
        // A pointer past the end.
        DNSMessageCodecTests.header + [0xC0, 200, 0, 1, 0, 1],
        // Reserved label types 0x40 and 0x80.
        DNSMessageCodecTests.header + [0x41, 0, 0, 1, 0, 1],
        DNSMessageCodecTests.header + [0x81, 0, 0, 1, 0, 1],
    ])
    func compressionLoopsAndBadLabelsAreRejected(_ bytes: [UInt8]) {
        #expect(throws: DNSFormatError.self) { try DNSMessageReader.parse(bytes) }
    }

    @Test func truncatedPacketsAreRejectedAtEveryLength() throws {
        var m = DNSMessage(id: 9)
        m.isResponse = true
        m.questions = [DNSQuestion(name: try name("web.default.svc.cluster.local"), type: DNSRecordType.srv)]
        m.answers = [DNSRecord(name: m.questions[0].name, type: DNSRecordType.srv, ttl: 5,
                               data: .srv(priority: 0, weight: 100, port: 80, target: try name("web.default.svc.cluster.local")))]
        let bytes = DNSMessageWriter.encode(m)
        for length in 0..<bytes.count {
            #expect(throws: DNSFormatError.self) { try DNSMessageReader.parse(Array(bytes.prefix(length))) }
        }
        #expect(try DNSMessageReader.parse(bytes) == m)
    }

    @Test func sectionCountsBeyondThePacketAreRejected() {
        let bytes: [UInt8] = [0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: DNSFormatError.self) { try DNSMessageReader.parse(bytes) }
    }

    @Test func randomBytesNeverTrap() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let length = Int.random(in: 0...80, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 5 { bytes[4] = 0; bytes[5] = 1 }
            _ = try? DNSMessageReader.parse(bytes)
        }
    }

    @Test func oversizedAnswersAreTruncatedWithTheTCBit() throws {
        var m = DNSMessage(id: 3)
        m.isResponse = true
        m.questions = [DNSQuestion(name: try name("big.default.svc.cluster.local"), type: DNSRecordType.a)]
        m.answers = (0..<100).map { i in
            DNSRecord(name: m.questions[0].name, type: DNSRecordType.a, ttl: 5, data: .ipv4([10, 244, 0, UInt8(i)]))
        }
        let udp = DNSMessageWriter.encode(m, limit: 512)
        #expect(udp.count <= 512)
        let parsed = try DNSMessageReader.parse(udp)
        #expect(parsed.truncated)
        #expect(parsed.answers.isEmpty)
        #expect(parsed.questions == m.questions)
        let tcp = try DNSMessageReader.parse(DNSMessageWriter.encode(m))
        #expect(!tcp.truncated)
        #expect(tcp.answers.count == 100)
    }

    @Test func ednsPayloadSizeIsRead() throws {
        var q = DNSMessage(id: 4)
        q.questions = [DNSQuestion(name: try name("a.b"), type: DNSRecordType.a)]
        #expect(q.maxUDPPayload == 512)
        q.additional = [DNSRecord(name: DNSName(labels: []), type: DNSRecordType.opt, dnsClass: 4096, ttl: 0, data: .raw([0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]))]
        let parsed = try DNSMessageReader.parse(DNSMessageWriter.encode(q))
        #expect(parsed.maxUDPPayload == 4096)
        #expect(parsed.additional == q.additional)
    }

    @Test func tcpFramesAreSplitAcrossChunks() throws {
        var framer = DNSStreamFramer()
        framer.append(.init(bytes: [0, 3, 1]))
        #expect(try framer.next() == nil)
        framer.append(.init(bytes: [2, 3, 0, 1, 9, 0]))
        #expect(try framer.next() == [1, 2, 3])
        #expect(try framer.next() == [9])
        #expect(try framer.next() == nil)
        framer.append(.init(bytes: [0]))
        #expect(throws: DNSFormatError.self) { try framer.next() }
    }
}
