/// Why a packet could not be read; the server answers FORMERR (or nothing) and carries on.
public struct DNSFormatError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Reads a DNS message from bytes. Every read is bounds-checked; compression pointers must
/// point backwards (so they cannot loop), and names keep to 255 bytes and labels to 63.
public struct DNSMessageReader {
    private let bytes: [UInt8]
    private var offset = 0

    public static func parse(_ bytes: [UInt8]) throws -> DNSMessage {
        var reader = DNSMessageReader(bytes: bytes)
        return try reader.message()
    }

    /// The query ID of a packet too broken to parse, to address a FORMERR to; nil under 2 bytes.
    public static func id(of bytes: [UInt8]) -> UInt16? {
        bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : nil
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func message() throws -> DNSMessage {
        var m = DNSMessage(id: try u16())
        let flags = try u16()
        m.isResponse = flags & 0x8000 != 0
        m.opcode = UInt8((flags >> 11) & 0x0F)
        m.authoritative = flags & 0x0400 != 0
        m.truncated = flags & 0x0200 != 0
        m.recursionDesired = flags & 0x0100 != 0
        m.recursionAvailable = flags & 0x0080 != 0
        m.responseCode = DNSResponseCode(rawValue: UInt8(flags & 0x000F))
        let qd = try u16(), an = try u16(), ns = try u16(), ar = try u16()
        // Each question takes at least 5 bytes and each record 11: refuse counts the packet
        // cannot hold before reserving anything for them.
        guard Int(qd) * 5 + (Int(an) + Int(ns) + Int(ar)) * 11 <= bytes.count - offset else {
            throw DNSFormatError("section counts exceed the packet")
        }
        for _ in 0..<qd { m.questions.append(DNSQuestion(name: try name(), type: try u16(), dnsClass: try u16())) }
        for _ in 0..<an { m.answers.append(try record()) }
        for _ in 0..<ns { m.authority.append(try record()) }
        for _ in 0..<ar { m.additional.append(try record()) }
        return m
    }

    mutating func record() throws -> DNSRecord {
        let owner = try name()
        let type = try u16(), cls = try u16(), ttl = try u32()
        let length = Int(try u16())
        guard offset + length <= bytes.count else { throw DNSFormatError("record data runs past the packet") }
        let end = offset + length
        let data: DNSRecordData
        switch type {
        case DNSRecordType.a:
            guard length == 4 else { throw DNSFormatError("A record of \(length) bytes") }
            data = .ipv4(Array(bytes[offset..<end]))
        case DNSRecordType.cname, DNSRecordType.ptr, DNSRecordType.ns:
            data = .name(try name())
        case DNSRecordType.srv:
            data = .srv(priority: try u16(), weight: try u16(), port: try u16(), target: try name())
        case DNSRecordType.soa:
            data = .soa(primary: try name(), mailbox: try name(), serial: try u32(), refresh: try u32(), retry: try u32(),
                        expire: try u32(), minimum: try u32())
        default:
            data = .raw(Array(bytes[offset..<end]))
        }
        guard offset <= end else { throw DNSFormatError("record data longer than its length") }
        offset = end
        return DNSRecord(name: owner, type: type, dnsClass: cls, ttl: ttl, data: data)
    }

    /// A name at the current offset, following compression pointers.
    mutating func name() throws -> DNSName {
        var labels: [[UInt8]] = []
        var wire = 1
        var position = offset
        var resumeAt: Int?
        while true {
            guard position < bytes.count else { throw DNSFormatError("name runs past the packet") }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(labels: labels)
                }
                guard position + 1 + length <= bytes.count else { throw DNSFormatError("label runs past the packet") }
                wire += 1 + length
                guard wire <= DNSName.maxWireLength else { throw DNSFormatError("name longer than 255 bytes") }
                labels.append(Array(bytes[(position + 1)...(position + length)]))
                position += 1 + length
            case 0xC0:
                guard position + 1 < bytes.count else { throw DNSFormatError("compression pointer runs past the packet") }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                // Only backwards, to a place before this pointer: a chain of such jumps ends.
                guard target < position else { throw DNSFormatError("compression pointer does not point backwards") }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
            default:
                throw DNSFormatError("unsupported label type")
            }
        }
    }

    mutating func u16() throws -> UInt16 {
        guard offset + 2 <= bytes.count else { throw DNSFormatError("packet too short") }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }
}
