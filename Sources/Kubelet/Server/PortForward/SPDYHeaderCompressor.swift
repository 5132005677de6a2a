import CZlib

/// Deflates the header blocks one side of a SPDY connection sends: one zlib stream for the
/// whole connection, primed with `SPDYDictionary`, each block ended with a sync flush so the
/// peer can inflate it on its own. Used by one task at a time (the connection's reader).
final class SPDYHeaderCompressor {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var ready = false

    init() throws {
        stream.initialize(to: z_stream())
        guard deflateInit_(stream, Z_DEFAULT_COMPRESSION, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw SPDYError.compression("deflateInit failed")
        }
        ready = true
        let status = SPDYDictionary.bytes.withUnsafeBufferPointer {
            deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
        }
        guard status == Z_OK else { throw SPDYError.compression("deflateSetDictionary failed (\(status))") }
    }

    deinit {
        if ready { deflateEnd(stream) }
        stream.deallocate()
    }

    /// The compressed form of `block` (a serialized name/value header block).
    func compress(_ block: [UInt8]) throws -> [UInt8] {
        var input = block
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.pointee.next_in = inputBuffer.baseAddress
            stream.pointee.avail_in = uInt(inputBuffer.count)
            repeat {
                let produced = try chunk.withUnsafeMutableBufferPointer { out -> Int in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let status = deflate(stream, Z_SYNC_FLUSH)
                    guard status == Z_OK || status == Z_BUF_ERROR else { throw SPDYError.compression("deflate failed (\(status))") }
                    return out.count - Int(stream.pointee.avail_out)
                }
                output += chunk[0..<produced]
            } while stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        return output
    }
}
