/// A DNS message (RFC 1035 §4) as the node DNS server reads and writes it. Names are kept as
/// raw label bytes so that a question is echoed back exactly as it was asked.
public struct DNSMessage: Sendable, Equatable {
    public var id: UInt16
    public var isResponse = false
    public var opcode: UInt8 = 0
    public var authoritative = false
    public var truncated = false
    public var recursionDesired = false
    public var recursionAvailable = false
    public var responseCode: DNSResponseCode = .noError
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authority: [DNSRecord] = []
    public var additional: [DNSRecord] = []

    public init(id: UInt16) { self.id = id }

    /// The UDP payload size the sender accepts: its EDNS0 OPT record's, else 512 (RFC 6891).
    public var maxUDPPayload: Int {
        guard let opt = additional.first(where: { $0.type == DNSRecordType.opt }) else { return 512 }
        return max(512, Int(opt.dnsClass))
    }
}

public struct DNSResponseCode: RawRepresentable, Sendable, Equatable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    public static let noError = DNSResponseCode(rawValue: 0)
    public static let formatError = DNSResponseCode(rawValue: 1)
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)
}

/// Record types the server answers or passes through.
public enum DNSRecordType {
    public static let a: UInt16 = 1
    public static let ns: UInt16 = 2
    public static let cname: UInt16 = 5
    public static let soa: UInt16 = 6
    public static let ptr: UInt16 = 12
    public static let txt: UInt16 = 16
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let opt: UInt16 = 41
    public static let any: UInt16 = 255
}

public enum DNSClass {
    public static let internet: UInt16 = 1
}

/// A domain name as its labels; comparisons ignore ASCII case, as DNS does.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    public static let maxLabelLength = 63
    /// Wire length including length bytes and the root byte.
    public static let maxWireLength = 255

    public private(set) var labels: [[UInt8]]

    public init(labels: [[UInt8]]) { self.labels = labels }

    /// From dotted text ("a.b.c." or "a.b.c"); nil when a label is empty or too long or the
    /// name is too long.
    public init?(_ text: String) {
        var trimmed = Substring(text)
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        if trimmed.isEmpty { self.labels = []; return }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        guard parts.allSatisfy({ !$0.isEmpty && $0.count <= Self.maxLabelLength }) else { return nil }
        self.labels = parts
        guard wireLength <= Self.maxWireLength else { return nil }
    }

    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// Lowercased dotted form without the trailing dot ("" for the root).
    public var lowercased: String {
        labels.map { String(decoding: $0.map(Self.lower), as: UTF8.self) }.joined(separator: ".")
    }

    public var description: String { labels.isEmpty ? "." : labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") + "." }

    /// The labels in front of `suffix` (lowercased), nil when the name is not under it.
    public func labels(under suffix: DNSName) -> [String]? {
        guard labels.count >= suffix.labels.count else { return nil }
        let tail = labels.suffix(suffix.labels.count)
        guard zip(tail, suffix.labels).allSatisfy({ $0.map(Self.lower) == $1.map(Self.lower) }) else { return nil }
        return labels.prefix(labels.count - suffix.labels.count).map { String(decoding: $0.map(Self.lower), as: UTF8.self) }
    }

    public static func == (a: DNSName, b: DNSName) -> Bool {
        a.labels.count == b.labels.count && zip(a.labels, b.labels).allSatisfy { $0.map(lower) == $1.map(lower) }
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels { hasher.combine(label.map(Self.lower)) }
    }

    static func lower(_ byte: UInt8) -> UInt8 { (65...90).contains(byte) ? byte + 32 : byte }
}

public struct DNSQuestion: Sendable, Equatable {
    public var name: DNSName
    public var type: UInt16
    public var dnsClass: UInt16

    public init(name: DNSName, type: UInt16, dnsClass: UInt16 = DNSClass.internet) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }
}

public struct DNSRecord: Sendable, Equatable {
    public var name: DNSName
    public var type: UInt16
    /// For OPT records (EDNS0) this is the sender's UDP payload size.
    public var dnsClass: UInt16
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: DNSName, type: UInt16, dnsClass: UInt16 = DNSClass.internet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }
}

public enum DNSRecordData: Sendable, Equatable {
    /// Four bytes.
    case ipv4([UInt8])
    case name(DNSName)  // CNAME, PTR, NS
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case soa(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    /// Anything else (AAAA, TXT, OPT options...), as on the wire.
    case raw([UInt8])
}
