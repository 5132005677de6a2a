import KubeModel
import Testing
@testable import Kubelet

/// The zone's answers from a fixed set of Services and EndpointSlices.
@Suite struct ClusterDNSResolverTests {
    static func service(_ name: String, _ ns: String = "default", clusterIP: String?, type: String = "ClusterIP",
                        externalName: String? = nil, ports: [(String, Int, String)] = [("http", 80, "TCP")]) -> JSONValue {
        var spec: [String: JSONValue] = ["type": .string(type),
                                         "ports": .array(ports.map { ["name": .string($0.0), "port": .int(Int64($0.1)), "protocol": .string($0.2)] })]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        if let externalName { spec["externalName"] = .string(externalName) }
        return ["metadata": ["name": .string(name), "namespace": .string(ns)], "spec": .object(spec)]
    }

    static func slice(_ service: String, _ endpoints: [(ip: String, hostname: String?, ready: Bool?)], ns: String = "default",
                      ports: [(String, Int, String)] = [("http", 8080, "TCP")]) -> JSONValue {
        [
            "metadata": ["name": .string(service + "-abcde"), "namespace": .string(ns), "labels": ["kubernetes.io/service-name": .string(service)]],
            "addressType": "IPv4",
            "endpoints": .array(endpoints.map { ep in
                var o: [String: JSONValue] = ["addresses": [.string(ep.ip)]]
                if let h = ep.hostname { o["hostname"] = .string(h) }
                if let r = ep.ready { o["conditions"] = ["ready": .bool(r)] }
                return .object(o)
            }),
            "ports": .array(ports.map { ["name": .string($0.0), "port": .int(Int64($0.1)), "protocol": .string($0.2)] }),
        ]
    }

    static let index = ClusterDNSIndex(
        services: [
            service("web", clusterIP: "10.96.0.20"),
            service("db", clusterIP: "None", ports: [("pg", 5432, "TCP")]),
            service("empty", clusterIP: "None"),
            service("ext", clusterIP: nil, type: "ExternalName", externalName: "example.org"),
            service("kube-dns", "kube-system", clusterIP: "10.96.0.10", ports: [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]),
        ],
        endpointSlices: [
            slice("web", [("10.244.0.5", nil, true), ("10.244.0.6", nil, nil)]),
            slice("db", [("10.244.0.7", "db-0", true), ("10.244.0.8", "db-1", true), ("10.244.0.9", "db-2", false)],
                  ports: [("pg", 5432, "TCP")]),
        ])

    let resolver = ClusterDNSResolver(clusterDomain: "cluster.local")!

    func ask(_ name: String, _ type: UInt16 = DNSRecordType.a) throws -> DNSMessage? {
        var q = DNSMessage(id: 42)
        q.recursionDesired = true
        q.questions = [DNSQuestion(name: try #require(DNSName(name)), type: type)]
        return resolver.respond(to: q, index: Self.index)
    }

    func addresses(_ m: DNSMessage?) -> [String] {
        (m?.answers ?? []).compactMap { if case .ipv4(let b) = $0.data { return b.map(String.init).joined(separator: ".") } else { return nil } }
    }

    @Test func clusterIPServiceAnswersItsAddress() throws {
        let m = try #require(try ask("web.default.svc.cluster.local"))
        #expect(m.responseCode == .noError)
        #expect(m.authoritative && m.isResponse && m.id == 42 && m.recursionDesired)
        #expect(addresses(m) == ["10.96.0.20"])
        #expect(m.answers[0].ttl == 5)
        // Any case, trailing dot or not.
        #expect(addresses(try ask("WEB.Default.svc.Cluster.Local.")) == ["10.96.0.20"])
    }

    @Test func headlessServiceAnswersItsReadyEndpoints() throws {
        #expect(addresses(try ask("db.default.svc.cluster.local")) == ["10.244.0.7", "10.244.0.8"])
        // Unset ready counts as ready.
        #expect(addresses(try ask("web.default.svc.cluster.local")) == ["10.96.0.20"])
        #expect(addresses(try ask("db-1.db.default.svc.cluster.local")) == ["10.244.0.8"])
        // Not ready: not in DNS.
        #expect(try ask("db-2.db.default.svc.cluster.local")?.responseCode == .nameError)
    }

    @Test func srvRecordsForNamedPorts() throws {
        let clusterIP = try #require(try ask("_http._tcp.web.default.svc.cluster.local", DNSRecordType.srv))
        #expect(clusterIP.answers.map(\.data) == [.srv(priority: 0, weight: 100, port: 80, target: DNSName("web.default.svc.cluster.local")!)])
        #expect(addresses(DNSMessage(id: 0, answers: clusterIP.additional)) == ["10.96.0.20"])
        let headless = try #require(try ask("_pg._tcp.db.default.svc.cluster.local", DNSRecordType.srv))
        #expect(headless.answers.map(\.data) == [
            .srv(priority: 0, weight: 50, port: 5432, target: DNSName("db-0.db.default.svc.cluster.local")!),
            .srv(priority: 0, weight: 50, port: 5432, target: DNSName("db-1.db.default.svc.cluster.local")!),
        ])
        #expect(headless.additional.count == 2)
        let dns = try #require(try ask("_dns._udp.kube-dns.kube-system.svc.cluster.local", DNSRecordType.srv))
        #expect(dns.answers.count == 1)
        // Wrong protocol or port name: no such name.
        #expect(try ask("_http._udp.web.default.svc.cluster.local", DNSRecordType.srv)?.responseCode == .nameError)
        #expect(try ask("_nope._tcp.web.default.svc.cluster.local", DNSRecordType.srv)?.responseCode == .nameError)
        // The name exists but holds no A record.
        let a = try #require(try ask("_http._tcp.web.default.svc.cluster.local"))
        #expect(a.responseCode == .noError && a.answers.isEmpty)
    }

    @Test func podRecordsFromTheirDashedAddress() throws {
        #expect(addresses(try ask("10-244-0-9.default.pod.cluster.local")) == ["10.244.0.9"])
        #expect(try ask("10-244-0-999.default.pod.cluster.local")?.responseCode == .nameError)
        #expect(try ask("not-an-ip.default.pod.cluster.local")?.responseCode == .nameError)
    }

    @Test func nxdomainAndNodataAreTold() throws {
        let missing = try #require(try ask("nope.default.svc.cluster.local"))
        #expect(missing.responseCode == .nameError)
        #expect(missing.answers.isEmpty)
        #expect(missing.authority.first?.type == DNSRecordType.soa)
        #expect(try ask("web.nons.svc.cluster.local")?.responseCode == .nameError)
        #expect(try ask("a.b.c.d.e.f.svc.cluster.local")?.responseCode == .nameError)
        #expect(try ask("web.default.cluster.local")?.responseCode == .nameError)
        // Existing names without records of the type: NOERROR, no answers, SOA for caching.
        for (name, type) in [("web.default.svc.cluster.local", DNSRecordType.aaaa), ("default.svc.cluster.local", DNSRecordType.a),
                             ("svc.cluster.local", DNSRecordType.a), ("cluster.local", DNSRecordType.a),
                             ("10-244-0-9.default.pod.cluster.local", DNSRecordType.aaaa)] {
            let m = try #require(try ask(name, type))
            #expect(m.responseCode == .noError, "\(name)")
            #expect(m.answers.isEmpty, "\(name)")
            #expect(m.authority.first?.type == DNSRecordType.soa, "\(name)")
        }
        // A headless Service without ready endpoints exists: NODATA.
        let empty = try #require(try ask("empty.default.svc.cluster.local"))
        #expect(empty.responseCode == .noError && empty.answers.isEmpty)
    }

    @Test func externalNameIsACname() throws {
        for type in [DNSRecordType.a, DNSRecordType.aaaa] {
            let m = try #require(try ask("ext.default.svc.cluster.local", type))
            #expect(m.answers.map(\.type) == [DNSRecordType.cname])
            #expect(m.answers.first?.data == .name(DNSName("example.org")!))
        }
    }

    @Test func reverseLookupsOfServiceAddresses() throws {
        let m = try #require(try ask("20.0.96.10.in-addr.arpa", DNSRecordType.ptr))
        #expect(m.answers.first?.data == .name(DNSName("web.default.svc.cluster.local")!))
        let pod = try #require(try ask("8.0.244.10.in-addr.arpa", DNSRecordType.ptr))
        #expect(pod.answers.first?.data == .name(DNSName("db-1.db.default.svc.cluster.local")!))
        // Unknown addresses go upstream.
        #expect(try ask("1.1.168.192.in-addr.arpa", DNSRecordType.ptr) == nil)
    }

    @Test func otherNamesAreForwarded() throws {
        #expect(try ask("example.org") == nil)
        #expect(try ask("local") == nil)
        #expect(try ask("cluster.local.example.org") == nil)
    }

    @Test func otherDomainsAndMalformedQueries() throws {
        let custom = try #require(ClusterDNSResolver(clusterDomain: "corp.internal"))
        var q = DNSMessage(id: 1)
        q.questions = [DNSQuestion(name: DNSName("web.default.svc.corp.internal")!, type: DNSRecordType.a)]
        #expect(addresses(custom.respond(to: q, index: Self.index)) == ["10.96.0.20"])
        q.questions = []
        #expect(custom.respond(to: q, index: Self.index)?.responseCode == .formatError)
        q.opcode = 2
        #expect(custom.respond(to: q, index: Self.index)?.responseCode == .notImplemented)
    }
}

extension DNSMessage {
    init(id: UInt16, answers: [DNSRecord]) {
        self.init(id: id)
        self.answers = answers
    }
}
