import Foundation

/// Answers questions about the cluster zone as CoreDNS's kubernetes plugin does (pods in
/// "insecure" mode: any well-formed A-B-C-D.NS.pod name resolves to its address). Pure: the
/// same index and query always give the same answer, so it is tested without a network.
public struct ClusterDNSResolver: Sendable {
    public let zone: DNSName
    public let ttl: UInt32

    public init?(clusterDomain: String, ttl: UInt32 = 5) {
        guard let zone = DNSName(clusterDomain), !zone.labels.isEmpty else { return nil }
        self.zone = zone
        self.ttl = ttl
    }

    /// The response to `query`, or nil when the name is not the cluster's to answer (it goes
    /// to the upstream resolvers).
    public func respond(to query: DNSMessage, index: ClusterDNSIndex) -> DNSMessage? {
        var response = DNSMessage(id: query.id)
        response.isResponse = true
        response.opcode = query.opcode
        response.recursionDesired = query.recursionDesired
        response.recursionAvailable = true
        response.questions = query.questions
        guard query.opcode == 0 else {
            response.responseCode = .notImplemented
            return response
        }
        guard query.questions.count == 1, let question = query.questions.first else {
            response.responseCode = .formatError
            return response
        }
        if let labels = question.name.labels(under: zone) {
            response.authoritative = true
            var answer = zoneAnswer(labels, question: question, index: index)
            if answer.code == .nameError || answer.records.isEmpty { answer.additional = [] }
            response.responseCode = answer.code
            response.answers = answer.records
            response.additional = answer.additional
            if answer.records.isEmpty { response.authority = [soa()] }
            return response
        }
        if question.type == DNSRecordType.ptr || question.type == DNSRecordType.any,
           let ip = Self.reverseAddress(question.name), let target = index.name(forIP: ip, zone: zone.lowercased).flatMap({ DNSName($0) }) {
            response.authoritative = true
            response.answers = [DNSRecord(name: question.name, type: DNSRecordType.ptr, ttl: ttl, data: .name(target))]
            return response
        }
        return nil
    }

    struct Answer {
        var code: DNSResponseCode = .noError
        var records: [DNSRecord] = []
        var additional: [DNSRecord] = []
        static let nxdomain = Answer(code: .nameError)
        static let nodata = Answer()
    }

    /// `labels`: the name's labels in front of the zone, lowercased.
    func zoneAnswer(_ labels: [String], question q: DNSQuestion, index: ClusterDNSIndex) -> Answer {
        guard let kind = labels.last else {
            return q.type == DNSRecordType.soa ? Answer(records: [soa()]) : .nodata
        }
        switch (kind, labels.count) {
        case ("svc", 1): return .nodata
        case ("svc", 2): return index.namespaces.contains(labels[0]) ? .nodata : .nxdomain
        case ("svc", 3):
            guard let service = index.service(labels[1], labels[0]) else { return .nxdomain }
            return serviceAnswer(service, question: q, index: index)
        case ("svc", 4):
            guard let service = index.service(labels[2], labels[1]), service.headless,
                  let ep = index.readyEndpoints(service.namespace, service.name).first(where: { $0.label == labels[0] }) else { return .nxdomain }
            return addressAnswer(q, ips: [ep.ip])
        case ("svc", 5):
            return srvAnswer(port: labels[0], proto: labels[1], service: labels[2], namespace: labels[3], question: q, index: index)
        case ("pod", 1), ("pod", 2): return .nodata
        case ("pod", 3):
            guard let ip = IPv4Text.bytes(labels[0].replacingOccurrences(of: "-", with: ".")) else { return .nxdomain }
            return addressAnswer(q, ips: [ip.map(String.init).joined(separator: ".")])
        default:
            return .nxdomain
        }
    }

    func serviceAnswer(_ s: ClusterDNSIndex.Service, question q: DNSQuestion, index: ClusterDNSIndex) -> Answer {
        if let external = s.externalName {
            // A CNAME answers every type; the client follows it through its own resolver.
            guard let target = DNSName(external) else { return Answer(code: .serverFailure) }
            return Answer(records: [DNSRecord(name: q.name, type: DNSRecordType.cname, ttl: ttl, data: .name(target))])
        }
        let eps = index.readyEndpoints(s.namespace, s.name)
        if q.type == DNSRecordType.srv {
            // Every named port, as _port._proto names would give.
            var answer = Answer()
            for port in s.ports where !port.name.isEmpty {
                let more = srvRecords(s, port: port.name, proto: port.proto, name: q.name, endpoints: eps)
                answer.records += more.records
                answer.additional += more.additional
            }
            return answer
        }
        if let ip = s.clusterIP { return addressAnswer(q, ips: [ip]) }
        return addressAnswer(q, ips: eps.map(\.ip))
    }

    func srvAnswer(port: String, proto: String, service: String, namespace: String, question q: DNSQuestion,
                   index: ClusterDNSIndex) -> Answer {
        guard port.hasPrefix("_"), proto.hasPrefix("_"), let s = index.service(namespace, service), s.externalName == nil else {
            return .nxdomain
        }
        let portName = String(port.dropFirst()), protoName = String(proto.dropFirst())
        guard s.ports.contains(where: { $0.name == portName && $0.proto == protoName }) else { return .nxdomain }
        guard q.type == DNSRecordType.srv || q.type == DNSRecordType.any else { return .nodata }
        return srvRecords(s, port: portName, proto: protoName, name: q.name, endpoints: index.readyEndpoints(namespace, service))
    }

    /// SRV records for one port: the Service name for a ClusterIP Service, each ready
    /// endpoint's name for a headless one; the addresses go in the additional section.
    func srvRecords(_ s: ClusterDNSIndex.Service, port: String, proto: String, name: DNSName,
                    endpoints: [ClusterDNSIndex.Endpoint]) -> Answer {
        let serviceName = "\(s.name).\(s.namespace).svc.\(zone.lowercased)"
        var targets: [(target: String, port: Int, ip: String)] = []
        if let ip = s.clusterIP, let p = s.ports.first(where: { $0.name == port && $0.proto == proto }) {
            targets = [(serviceName, p.port, ip)]
        } else if s.clusterIP == nil {
            for ep in endpoints {
                guard let p = ep.ports.first(where: { $0.name == port && $0.proto == proto }) else { continue }
                targets.append(("\(ep.label).\(serviceName)", p.port, ep.ip))
            }
        }
        var answer = Answer()
        let weight = UInt16(max(1, 100 / max(1, targets.count)))
        for t in targets {
            guard let target = DNSName(t.target), let address = IPv4Text.bytes(t.ip) else { continue }
            answer.records.append(DNSRecord(name: name, type: DNSRecordType.srv, ttl: ttl,
                                            data: .srv(priority: 0, weight: weight, port: UInt16(t.port), target: target)))
            answer.additional.append(DNSRecord(name: target, type: DNSRecordType.a, ttl: ttl, data: .ipv4(address)))
        }
        return answer
    }

    /// A records for A (and ANY) questions; the name exists, so other types get NODATA.
    func addressAnswer(_ q: DNSQuestion, ips: [String]) -> Answer {
        guard q.type == DNSRecordType.a || q.type == DNSRecordType.any else { return .nodata }
        var seen = Set<String>()
        return Answer(records: ips.filter { seen.insert($0).inserted }.compactMap { ip in
            IPv4Text.bytes(ip).map { DNSRecord(name: q.name, type: DNSRecordType.a, ttl: ttl, data: .ipv4($0)) }
        })
    }

    /// The zone's SOA: in the authority section of negative answers, its minimum is how long
    /// they may be cached.
    func soa() -> DNSRecord {
        let primary = DNSName(labels: [Array("ns".utf8), Array("dns".utf8)] + zone.labels)
        let mailbox = DNSName(labels: [Array("hostmaster".utf8)] + zone.labels)
        return DNSRecord(name: zone, type: DNSRecordType.soa, ttl: ttl,
                         data: .soa(primary: primary, mailbox: mailbox, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl))
    }

    /// "d.c.b.a.in-addr.arpa" → "a.b.c.d".
    static func reverseAddress(_ name: DNSName) -> String? {
        guard let arpa = DNSName("in-addr.arpa"), let labels = name.labels(under: arpa), labels.count == 4 else { return nil }
        let ip = labels.reversed().joined(separator: ".")
        return IPv4Text.bytes(ip) == nil ? nil : ip
    }
}
