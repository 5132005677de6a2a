import KubeModel
import Logging

/// One query in, one response out: the cluster zone from the index, everything else from
/// the upstream resolvers. Any bytes may arrive; nothing here traps on them.
public struct DNSQueryHandler: Sendable {
    let resolver: ClusterDNSResolver
    let index: @Sendable () -> ClusterDNSIndex
    let forwarder: DNSForwarder
    /// What the server advertises in its own EDNS0 OPT record (RFC 6891; 1232 avoids fragments).
    static let ednsPayload: UInt16 = 1232

    public init(resolver: ClusterDNSResolver, forwarder: DNSForwarder, index: @escaping @Sendable () -> ClusterDNSIndex) {
        self.resolver = resolver
        self.forwarder = forwarder
        self.index = index
    }

    /// The response bytes, or nil to send nothing (responses and packets too short to answer).
    public func respond(to packet: [UInt8], overTCP: Bool) async -> [UInt8]? {
        let query: DNSMessage
        do {
            query = try DNSMessageReader.parse(packet)
        } catch {
            // A header is enough to say FORMERR to a query; anything shorter goes unanswered.
            guard packet.count >= 12, packet[2] & 0x80 == 0, let id = DNSMessageReader.id(of: packet) else { return nil }
            var reply = DNSMessage(id: id)
            reply.isResponse = true
            reply.responseCode = .formatError
            return DNSMessageWriter.encode(reply)
        }
        guard !query.isResponse else { return nil }
        let limit = overTCP ? 65535 : min(query.maxUDPPayload, 4096)
        if var response = resolver.respond(to: query, index: index()) {
            if query.additional.contains(where: { $0.type == DNSRecordType.opt }) {
                response.additional.append(DNSRecord(name: DNSName(labels: []), type: DNSRecordType.opt, dnsClass: Self.ednsPayload,
                                                     ttl: 0, data: .raw([])))
            }
            return DNSMessageWriter.encode(response, limit: limit)
        }
        if let answer = await forwarder.forward(packet, overTCP: overTCP) { return answer }
        var failure = DNSMessage(id: query.id)
        failure.isResponse = true
        failure.opcode = query.opcode
        failure.recursionDesired = query.recursionDesired
        failure.recursionAvailable = true
        failure.questions = query.questions
        failure.responseCode = .serverFailure
        return DNSMessageWriter.encode(failure, limit: limit)
    }
}
