import NIOCore

/// One SPDY/3.1 frame, as far as a port-forward server needs it. Control frames start with
/// the control bit and version 3 (`0x8003`), a 16-bit type, 8 flag bits and a 24-bit length;
/// data frames with a 31-bit stream ID, flags and length. Header blocks (SYN_STREAM,
/// SYN_REPLY, HEADERS) are zlib-compressed name/value lists, names lower-case, several values
/// of one name joined by NUL.
enum SPDYFrame: Equatable {
    case synStream(streamID: UInt32, fin: Bool, headers: [String: String])
    case synReply(streamID: UInt32, fin: Bool, headers: [String: String])
    case rstStream(streamID: UInt32, status: UInt32)
    case ping(id: UInt32)
    case goAway(lastStreamID: UInt32, status: UInt32)
    case data(streamID: UInt32, fin: Bool, payload: ByteBuffer)
    /// SETTINGS, HEADERS, WINDOW_UPDATE and unknown types: read and ignored (kubectl's
    /// streams do no flow control).
    case ignored(type: UInt16)

    static let version: UInt16 = 3
    static let flagFin: UInt8 = 0x01
    /// Largest payload this side puts in one data frame (the format allows 2^24 - 1).
    static let maxDataPayload = 32 * 1024
    /// Largest frame accepted from a peer.
    static let maxFrameLength = 1 << 24 - 1

    /// RST_STREAM status codes.
    static let protocolErrorStatus: UInt32 = 1, invalidStreamStatus: UInt32 = 2, refusedStreamStatus: UInt32 = 3,
        cancelStatus: UInt32 = 5

    enum ControlType: UInt16 {
        case synStream = 1, synReply = 2, rstStream = 3, settings = 4, ping = 6, goAway = 7, headers = 8, windowUpdate = 9
    }

    /// Appends the wire form; header blocks go through `compressor` (whose state the peer
    /// mirrors, so frames must be sent in the order they are encoded; nil only for frames
    /// without headers).
    func encode(into buffer: inout ByteBuffer, compressor: SPDYHeaderCompressor?) throws {
        switch self {
        case .synStream(let id, let fin, let headers):
            var body = ByteBuffer()
            body.writeInteger(id & 0x7fff_ffff)
            body.writeInteger(UInt32(0))
            body.writeInteger(UInt16(0))
            body.writeBytes(try Self.compressed(headers, compressor))
            Self.writeControl(.synStream, flags: fin ? Self.flagFin : 0, body: body, into: &buffer)
        case .synReply(let id, let fin, let headers):
            var body = ByteBuffer()
            body.writeInteger(id & 0x7fff_ffff)
            body.writeBytes(try Self.compressed(headers, compressor))
            Self.writeControl(.synReply, flags: fin ? Self.flagFin : 0, body: body, into: &buffer)
        case .rstStream(let id, let status):
            var body = ByteBuffer()
            body.writeInteger(id & 0x7fff_ffff)
            body.writeInteger(status)
            Self.writeControl(.rstStream, flags: 0, body: body, into: &buffer)
        case .ping(let id):
            var body = ByteBuffer()
            body.writeInteger(id)
            Self.writeControl(.ping, flags: 0, body: body, into: &buffer)
        case .goAway(let last, let status):
            var body = ByteBuffer()
            body.writeInteger(last & 0x7fff_ffff)
            body.writeInteger(status)
            Self.writeControl(.goAway, flags: 0, body: body, into: &buffer)
        case .data(let id, let fin, let payload):
            buffer.writeInteger(id & 0x7fff_ffff)
            Self.writeFlagsAndLength(fin ? Self.flagFin : 0, payload.readableBytes, into: &buffer)
            buffer.writeImmutableBuffer(payload)
        case .ignored:
            break
        }
    }

    /// The next whole frame at the start of `buffer` (consumed), nil when more bytes are needed.
    static func decode(_ buffer: inout ByteBuffer, decompressor: SPDYHeaderDecompressor) throws -> SPDYFrame? {
        guard buffer.readableBytes >= 8, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self),
              let flagsAndLength = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) else { return nil }
        let flags = UInt8(flagsAndLength >> 24)
        let length = Int(flagsAndLength & 0x00ff_ffff)
        guard buffer.readableBytes >= 8 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 8)
        guard var body = buffer.readSlice(length: length) else { return nil }
        let fin = flags & flagFin != 0
        guard first & 0x8000_0000 != 0 else {
            return .data(streamID: first & 0x7fff_ffff, fin: fin, payload: body)
        }
        let version = UInt16((first >> 16) & 0x7fff)
        guard version == Self.version else { throw SPDYError.protocolError("unsupported SPDY version \(version)") }
        let rawType = UInt16(first & 0xffff)
        guard let type = ControlType(rawValue: rawType) else { return .ignored(type: rawType) }
        func word() throws -> UInt32 {
            guard let w = body.readInteger(as: UInt32.self) else { throw SPDYError.protocolError("short control frame (type \(rawType))") }
            return w
        }
        switch type {
        case .synStream:
            let id = try word() & 0x7fff_ffff
            _ = try word() // associated-to stream
            guard body.readInteger(as: UInt16.self) != nil else { throw SPDYError.protocolError("short SYN_STREAM") }
            let headers = try parseHeaderBlock(decompressor.decompress(Array(body.readableBytesView)))
            return .synStream(streamID: id, fin: fin, headers: headers)
        case .synReply:
            let id = try word() & 0x7fff_ffff
            let headers = try parseHeaderBlock(decompressor.decompress(Array(body.readableBytesView)))
            return .synReply(streamID: id, fin: fin, headers: headers)
        case .headers:
            // Decompressed all the same: the zlib stream must see every block.
            _ = try word()
            _ = try decompressor.decompress(Array(body.readableBytesView))
            return .ignored(type: rawType)
        case .rstStream:
            let id = try word() & 0x7fff_ffff
            return .rstStream(streamID: id, status: try word())
        case .ping:
            return .ping(id: try word())
        case .goAway:
            let last = try word() & 0x7fff_ffff
            return .goAway(lastStreamID: last, status: body.readInteger(as: UInt32.self) ?? 0)
        case .settings, .windowUpdate:
            return .ignored(type: rawType)
        }
    }

    private static func compressed(_ headers: [String: String], _ compressor: SPDYHeaderCompressor?) throws -> [UInt8] {
        guard let compressor else { throw SPDYError.compression("a header block needs the connection's compressor") }
        return try compressor.compress(headerBlock(headers))
    }

    /// A name/value block: a 32-bit count, then each name and value with a 32-bit length.
    static func headerBlock(_ headers: [String: String]) -> [UInt8] {
        var out = ByteBuffer()
        out.writeInteger(UInt32(headers.count))
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            out.writeInteger(UInt32(name.utf8.count))
            out.writeString(name.lowercased())
            out.writeInteger(UInt32(value.utf8.count))
            out.writeString(value)
        }
        return Array(out.readableBytesView)
    }

    /// Names lower-cased; of a name's NUL-separated values, the first.
    static func parseHeaderBlock(_ bytes: [UInt8]) throws -> [String: String] {
        var buffer = ByteBuffer(bytes: bytes)
        guard let count = buffer.readInteger(as: UInt32.self) else { throw SPDYError.protocolError("empty header block") }
        var headers: [String: String] = [:]
        for _ in 0..<count {
            guard let nameLength = buffer.readInteger(as: UInt32.self), let name = buffer.readString(length: Int(nameLength)),
                  let valueLength = buffer.readInteger(as: UInt32.self), let value = buffer.readString(length: Int(valueLength)) else {
                throw SPDYError.protocolError("truncated header block")
            }
            headers[name.lowercased()] = String(value.split(separator: "\0", omittingEmptySubsequences: false).first ?? "")
        }
        return headers
    }

    private static func writeControl(_ type: ControlType, flags: UInt8, body: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt16(0x8000) | version)
        buffer.writeInteger(type.rawValue)
        writeFlagsAndLength(flags, body.readableBytes, into: &buffer)
        buffer.writeImmutableBuffer(body)
    }

    private static func writeFlagsAndLength(_ flags: UInt8, _ length: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(flags) << 24 | UInt32(length & 0x00ff_ffff))
    }
}
