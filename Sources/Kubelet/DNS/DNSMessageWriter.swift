/// Encodes DNS messages, compressing repeated name suffixes (RFC 1035 §4.1.4).
public struct DNSMessageWriter {
    private(set) var bytes: [UInt8] = []
    /// Offsets of name suffixes already written (lowercased labels → offset).
    private var suffixes: [[[UInt8]]: Int] = [:]

    /// The message as bytes, at most `limit` long: when the records do not fit, the answer
    /// goes out with the TC bit and the question only, so the client retries over TCP.
    public static func encode(_ message: DNSMessage, limit: Int = 65535) -> [UInt8] {
        var writer = DNSMessageWriter()
        writer.write(message)
        if writer.bytes.count <= limit { return writer.bytes }
        var truncated = message
        truncated.truncated = true
        truncated.answers = []
        truncated.authority = []
        truncated.additional = message.additional.filter { $0.type == DNSRecordType.opt }
        var small = DNSMessageWriter()
        small.write(truncated)
        return small.bytes
    }

    mutating func write(_ m: DNSMessage) {
        u16(m.id)
        var flags: UInt16 = 0
        if m.isResponse { flags |= 0x8000 }
        flags |= UInt16(m.opcode & 0x0F) << 11
        if m.authoritative { flags |= 0x0400 }
        if m.truncated { flags |= 0x0200 }
        if m.recursionDesired { flags |= 0x0100 }
        if m.recursionAvailable { flags |= 0x0080 }
        flags |= UInt16(m.responseCode.rawValue)
        u16(flags)
        for count in [m.questions.count, m.answers.count, m.authority.count, m.additional.count] { u16(UInt16(clamping: count)) }
        for q in m.questions {
            name(q.name)
            u16(q.type)
            u16(q.dnsClass)
        }
        for r in m.answers + m.authority + m.additional { record(r) }
    }

    mutating func record(_ r: DNSRecord) {
        name(r.name)
        u16(r.type)
        u16(r.dnsClass)
        u32(r.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch r.data {
        case .ipv4(let address): bytes += address.prefix(4)
        case .name(let target): name(target)
        case .srv(let priority, let weight, let port, let target):
            u16(priority); u16(weight); u16(port)
            // RFC 2782: SRV targets are not compressed.
            name(target, compress: false)
        case .soa(let primary, let mailbox, let serial, let refresh, let retry, let expire, let minimum):
            name(primary); name(mailbox)
            for v in [serial, refresh, retry, expire, minimum] { u32(v) }
        case .raw(let data): bytes += data
        }
        let length = bytes.count - lengthAt - 2
        bytes[lengthAt] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[lengthAt + 1] = UInt8(truncatingIfNeeded: length)
    }

    mutating func name(_ n: DNSName, compress: Bool = true) {
        for i in n.labels.indices {
            let suffix = n.labels[i...].map { $0.map(DNSName.lower) }
            if compress, let at = suffixes[suffix] {
                u16(0xC000 | UInt16(at))
                return
            }
            // Pointers hold 14 bits: later suffixes cannot be pointed at.
            if bytes.count < 0x3FFF { suffixes[suffix] = bytes.count }
            let label = n.labels[i].prefix(DNSName.maxLabelLength)
            bytes.append(UInt8(label.count))
            bytes += label
        }
        bytes.append(0)
    }

    mutating func u16(_ v: UInt16) { bytes += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    mutating func u32(_ v: UInt32) { u16(UInt16(v >> 16)); u16(UInt16(v & 0xFFFF)) }
}
