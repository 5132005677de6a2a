/// Error decoding a Kubernetes protobuf body: bad framing, a malformed message, or a type we do
/// not serve.
public struct KubeProtobufError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong, in words fit for an API error message.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Protobuf wire types. Groups (3, 4) are deprecated and never written by Kubernetes.
enum ProtobufWireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Reads protobuf wire data from a window of a shared byte array. Every length is checked
/// against the window before use, so hostile input throws instead of trapping or allocating.
struct ProtobufReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.end = bytes.count
    }

    private init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// A reader over a sub-range returned by `readLengthDelimited` (no copy).
    func reader(for range: Range<Int>) -> ProtobufReader { ProtobufReader(bytes, range: range) }

    /// The bytes of a sub-range returned by `readLengthDelimited`.
    func slice(_ range: Range<Int>) -> ArraySlice<UInt8> { bytes[range] }

    mutating func readByte() throws(KubeProtobufError) -> UInt8 {
        guard position < end else { throw KubeProtobufError("unexpected end of protobuf data") }
        let b = bytes[position]
        position += 1
        return b
    }

    /// Base-128 varint: at most 10 bytes; bits beyond 64 are rejected, as Go's decoder does.
    mutating func readVarint() throws(KubeProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readByte()
            if shift == 63 && b > 1 { throw KubeProtobufError("protobuf varint overflows 64 bits") }
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw KubeProtobufError("protobuf varint overflows 64 bits") }
        }
    }

    /// Field number and wire type of the next field.
    mutating func readTag() throws(KubeProtobufError) -> (field: Int, wire: ProtobufWireType) {
        let key = try readVarint()
        guard let wire = ProtobufWireType(rawValue: UInt8(key & 7)) else {
            throw KubeProtobufError("illegal protobuf wire type \(key & 7)")
        }
        let field = key >> 3
        guard field > 0, field <= 0x1fff_ffff else { throw KubeProtobufError("illegal protobuf field number \(field)") }
        return (Int(field), wire)
    }

    mutating func readFixed32() throws(KubeProtobufError) -> UInt32 {
        guard end - position >= 4 else { throw KubeProtobufError("unexpected end of protobuf data") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func readFixed64() throws(KubeProtobufError) -> UInt64 {
        guard end - position >= 8 else { throw KubeProtobufError("unexpected end of protobuf data") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    /// The range of a length-delimited value, which must fit in what is left of the window.
    mutating func readLengthDelimited() throws(KubeProtobufError) -> Range<Int> {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw KubeProtobufError("protobuf length \(length) exceeds the remaining \(end - position) bytes")
        }
        let start = position
        position += Int(length)
        return start..<position
    }

    /// Skips a field we do not know, like Go's decoder does for forward compatibility.
    mutating func skip(_ wire: ProtobufWireType) throws(KubeProtobufError) {
        switch wire {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup, .endGroup: throw KubeProtobufError("protobuf groups are not supported")
        }
    }
}
