import NIOCore
import Testing
@testable import Kubelet

/// SPDY/3.1 framing and header compression as kubectl's port-forward streams use them.
@Suite struct SPDYFrameTests {
    @Test func dictionaryIsSPDY3s() {
        let bytes = SPDYDictionary.bytes
        #expect(bytes.count == 1423)
        #expect(Array(bytes.prefix(11)) == [0, 0, 0, 7] + Array("options".utf8))
        #expect(String(decoding: bytes.suffix(14), as: UTF8.self) == ",utf-,*,enq=0.")
        // zlib identifies a dictionary by its Adler-32; a peer's inflate refuses any other.
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        #expect(b << 16 | a == 0xe3c6_a7c2)
    }

    @Test func headerBlocksShareOneZlibStreamAcrossFrames() throws {
        let compressor = try SPDYHeaderCompressor(), decompressor = try SPDYHeaderDecompressor()
        var wire = ByteBuffer()
        let frames: [SPDYFrame] = [
            .synStream(streamID: 1, fin: false, headers: ["streamtype": "error", "port": "8080", "requestid": "0"]),
            .synStream(streamID: 3, fin: false, headers: ["streamtype": "data", "port": "8080", "requestid": "0"]),
            .synReply(streamID: 3, fin: false, headers: [:]),
            .synStream(streamID: 5, fin: true, headers: ["streamtype": "error", "port": "9090", "requestid": "1"]),
        ]
        for frame in frames { try frame.encode(into: &wire, compressor: compressor) }
        var decoded: [SPDYFrame] = []
        while let frame = try SPDYFrame.decode(&wire, decompressor: decompressor) { decoded.append(frame) }
        #expect(decoded == frames)
        #expect(wire.readableBytes == 0)
    }

    @Test func dataAndControlFramesRoundTripAndWaitForWholeFrames() throws {
        let compressor = try SPDYHeaderCompressor(), decompressor = try SPDYHeaderDecompressor()
        let frames: [SPDYFrame] = [
            .data(streamID: 3, fin: false, payload: ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n")),
            .data(streamID: 3, fin: true, payload: ByteBuffer()),
            .rstStream(streamID: 7, status: SPDYFrame.cancelStatus),
            .ping(id: 1),
            .goAway(lastStreamID: 9, status: 0),
        ]
        var wire = ByteBuffer()
        for frame in frames { try frame.encode(into: &wire, compressor: compressor) }
        // Bytes arrive in arbitrary pieces (the WebSocket messages of the tunnel): one at a time.
        var pending = ByteBuffer()
        var decoded: [SPDYFrame] = []
        while let byte = wire.readSlice(length: 1) {
            pending.writeImmutableBuffer(byte)
            while let frame = try SPDYFrame.decode(&pending, decompressor: decompressor) { decoded.append(frame) }
        }
        #expect(decoded == frames)
    }

    @Test func settingsAndWindowUpdatesAreSkipped() throws {
        var wire = ByteBuffer()
        wire.writeInteger(UInt16(0x8003)); wire.writeInteger(UInt16(9)); wire.writeInteger(UInt32(8))
        wire.writeInteger(UInt32(3)); wire.writeInteger(UInt32(65536))
        wire.writeInteger(UInt16(0x8003)); wire.writeInteger(UInt16(4)); wire.writeInteger(UInt32(4))
        wire.writeInteger(UInt32(0))
        let decompressor = try SPDYHeaderDecompressor()
        #expect(try SPDYFrame.decode(&wire, decompressor: decompressor) == .ignored(type: 9))
        #expect(try SPDYFrame.decode(&wire, decompressor: decompressor) == .ignored(type: 4))
        #expect(try SPDYFrame.decode(&wire, decompressor: decompressor) == nil)
    }

    @Test func malformedInputThrowsInsteadOfCrashing() throws {
        // SYN_STREAM whose header block is not zlib data.
        var garbage = ByteBuffer()
        garbage.writeInteger(UInt16(0x8003)); garbage.writeInteger(UInt16(1)); garbage.writeInteger(UInt32(14))
        garbage.writeInteger(UInt32(1)); garbage.writeInteger(UInt32(0)); garbage.writeInteger(UInt16(0))
        garbage.writeBytes([0xde, 0xad, 0xbe, 0xef])
        #expect(throws: SPDYError.self) { try SPDYFrame.decode(&garbage, decompressor: try SPDYHeaderDecompressor()) }
        // A SPDY/2 control frame.
        var old = ByteBuffer()
        old.writeInteger(UInt16(0x8002)); old.writeInteger(UInt16(6)); old.writeInteger(UInt32(4)); old.writeInteger(UInt32(1))
        #expect(throws: SPDYError.self) { try SPDYFrame.decode(&old, decompressor: try SPDYHeaderDecompressor()) }
        // A header block claiming more pairs than it holds.
        #expect(throws: SPDYError.self) { try SPDYFrame.parseHeaderBlock([0, 0, 0, 9, 0, 0, 0, 1, 0x61]) }
    }
}
