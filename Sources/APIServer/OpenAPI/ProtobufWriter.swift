/// A minimal protocol-buffers wire-format encoder: just what the OpenAPI v2 document needs
/// (varints, length-delimited strings and sub-messages, bools, doubles). Fields are written in
/// the order called; proto3 readers accept any order.
struct ProtobufWriter {
    /// Wire types of the protobuf encoding.
    enum WireType: UInt64 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private(set) var bytes: [UInt8] = []

    init() {}

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func tag(_ field: Int, _ wire: WireType) {
        varint(UInt64(field) << 3 | wire.rawValue)
    }

    /// A string field; empty strings are skipped as proto3 does for defaults.
    mutating func string(_ field: Int, _ value: String) {
        guard !value.isEmpty else { return }
        bytesField(field, Array(value.utf8))
    }

    /// A repeated-string element: written even when empty, since its position matters.
    mutating func repeatedString(_ field: Int, _ value: String) {
        bytesField(field, Array(value.utf8))
    }

    mutating func bytesField(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A bool field; false is the default and is skipped.
    mutating func bool(_ field: Int, _ value: Bool) {
        guard value else { return }
        tag(field, .varint)
        varint(1)
    }

    mutating func int64(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A double field as little-endian IEEE 754; zero is skipped.
    mutating func double(_ field: Int, _ value: Double) {
        guard value != 0 else { return }
        tag(field, .fixed64)
        let bits = value.bitPattern
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
    }

    /// An embedded message, always written (an empty message still marks the field as set).
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var sub = ProtobufWriter()
        build(&sub)
        bytesField(field, sub.bytes)
    }
}
