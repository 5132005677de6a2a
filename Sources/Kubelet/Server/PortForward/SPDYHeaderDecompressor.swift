import CZlib

/// Inflates the header blocks a SPDY peer sends: one zlib stream for the connection, the
/// SPDY dictionary supplied when zlib asks for it. Used by the connection's reader only.
final class SPDYHeaderDecompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var ready = false
    /// A header block larger than this is refused (a peer could otherwise inflate without bound).
    static let maxBlockSize = 1 << 20

    init() throws {
        stream.initialize(to: z_stream())
        guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw SPDYError.compression("inflateInit failed")
        }
        ready = true
    }

    deinit {
        if ready { inflateEnd(stream) }
        stream.deallocate()
    }

    /// The header block carried compressed in one frame.
    func decompress(_ compressed: [UInt8]) throws -> [UInt8] {
        guard !compressed.isEmpty else { return [] }
        var input = compressed
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.pointee.next_in = inputBuffer.baseAddress
            stream.pointee.avail_in = uInt(inputBuffer.count)
            defer { stream.pointee.next_in = nil }
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let status = inflate(stream, Z_SYNC_FLUSH)
                    return (status, out.count - Int(stream.pointee.avail_out))
                }
                output += chunk[0..<produced]
                guard output.count <= Self.maxBlockSize else { throw SPDYError.protocolError("header block too large") }
                switch status {
                case Z_NEED_DICT:
                    let set = SPDYDictionary.bytes.withUnsafeBufferPointer {
                        inflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
                    }
                    guard set == Z_OK else { throw SPDYError.compression("the peer's header dictionary is not SPDY/3's") }
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                case Z_BUF_ERROR:
                    return // all input consumed, nothing more to produce
                default:
                    throw SPDYError.compression("inflate failed (\(status))")
                }
            }
        }
        return output
    }
}
