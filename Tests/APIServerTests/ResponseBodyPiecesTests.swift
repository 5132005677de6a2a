import HTTPTypes
import Hummingbird
import KubeModel
import NIOCore
import Testing
@testable import APIServer

/// Large response bodies go out in pieces, so a TLS connection's write buffer never has to
/// hold a whole LIST; small ones in one write.
@Suite struct ResponseBodyPiecesTests {
    final class Recorder: @unchecked Sendable {
        var writes: [ByteBuffer] = []
        var finished = false
    }

    struct RecordingWriter: ResponseBodyWriter {
        let recorder: Recorder
        mutating func write(_ buffer: ByteBuffer) async throws { recorder.writes.append(buffer) }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws { recorder.finished = true }
    }

    func written(_ bytes: [UInt8]) async throws -> (Response, Recorder) {
        let response = ResponseBuilder.raw(bytes)
        let recorder = Recorder()
        try await response.body.write(RecordingWriter(recorder: recorder))
        return (response, recorder)
    }

    @Test func aLargeBodyIsWrittenInPiecesWithItsLength() async throws {
        let size = ResponseBuilder.pieceSize * 3 + 123
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let (response, recorder) = try await written(bytes)
        #expect(response.body.contentLength == size)
        #expect(recorder.writes.map(\.readableBytes) == [ResponseBuilder.pieceSize, ResponseBuilder.pieceSize, ResponseBuilder.pieceSize, 123])
        #expect(recorder.writes.flatMap { Array($0.readableBytesView) } == bytes)
        #expect(recorder.finished)
    }

    @Test func aSmallBodyIsOneWrite() async throws {
        let bytes = Array(repeating: UInt8(ascii: "x"), count: ResponseBuilder.pieceSize)
        let (response, recorder) = try await written(bytes)
        #expect(response.body.contentLength == bytes.count)
        #expect(recorder.writes.count == 1)
        #expect(recorder.finished)
    }
}
