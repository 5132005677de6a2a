import Foundation
import Testing
@testable import Kubelet

/// A temporary log directory with CRI-format writers.
private struct LogDir {
    let dir: String
    var path: String { dir + "/0.log" }

    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-logs-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    static func record(_ text: String, second: Int, stream: String = "stdout", partial: Bool = false) -> String {
        "2024-05-06T07:08:\(String(format: "%02d", second)).123456789Z \(stream) \(partial ? "P" : "F") \(text)\n"
    }

    func write(_ file: String, _ records: [String]) {
        #expect(FileManager.default.createFile(atPath: file, contents: Data(records.joined().utf8)))
    }

    func append(_ file: String, _ records: [String]) {
        guard let h = FileHandle(forWritingAtPath: file) else { return write(file, records) }
        h.seekToEndOfFile()
        h.write(Data(records.joined().utf8))
        try? h.close()
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

private func collect(_ reader: ContainerLogReader) async -> String {
    var out: [UInt8] = []
    for await chunk in reader { out += chunk }
    return String(decoding: out, as: UTF8.self)
}

private func rotated(_ d: LogDir) {
    d.write(d.path + ".2", [LogDir.record("a", second: 1), LogDir.record("b", second: 2)])
    d.write(d.path + ".1", [LogDir.record("c", second: 3), LogDir.record("d", second: 4)])
    d.write(d.path, [LogDir.record("e", second: 5), LogDir.record("f", second: 6)])
}

@Test func logReaderReadsRotatedFilesOldestFirst() async {
    let d = LogDir(); defer { d.remove() }
    rotated(d)
    #expect(ContainerLogReader.rotatedFiles(of: d.path) == [d.path + ".2", d.path + ".1"])
    #expect(await collect(ContainerLogReader(path: d.path, options: .init())) == "a\nb\nc\nd\ne\nf\n")
}

@Test func logReaderTailsAcrossRotatedFiles() async {
    let d = LogDir(); defer { d.remove() }
    rotated(d)
    #expect(await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 3))) == "d\ne\nf\n")
    #expect(await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 0))) == "")
    #expect(await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 100))) == "a\nb\nc\nd\ne\nf\n")
}

@Test func logReaderFiltersBySinceAndStampsLines() async throws {
    let d = LogDir(); defer { d.remove() }
    rotated(d)
    let since = try #require(RFC3339.parse("2024-05-06T07:08:04Z"))
    #expect(await collect(ContainerLogReader(path: d.path, options: .init(since: since))) == "d\ne\nf\n")
    let stamped = await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 1, timestamps: true)))
    #expect(stamped == "2024-05-06T07:08:06.123456789Z f\n")
}

@Test func logReaderJoinsPartialRecordsPerStream() async {
    let d = LogDir(); defer { d.remove() }
    d.write(d.path, [
        LogDir.record("hel", second: 1, partial: true),
        LogDir.record("oops", second: 2, stream: "stderr"),
        LogDir.record("lo wor", second: 3, partial: true),
        LogDir.record("ld", second: 4),
        LogDir.record("tail without end", second: 5, partial: true),
    ])
    #expect(await collect(ContainerLogReader(path: d.path, options: .init())) == "oops\nhello world\ntail without end")
    let stamped = await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 2, timestamps: true)))
    #expect(stamped == "2024-05-06T07:08:01.123456789Z hello world\n2024-05-06T07:08:05.123456789Z tail without end")
}

@Test func logReaderLimitsBytes() async {
    let d = LogDir(); defer { d.remove() }
    rotated(d)
    #expect(await collect(ContainerLogReader(path: d.path, options: .init(limitBytes: 5))) == "a\nb\nc")
}

@Test func logReaderPassesMalformedLinesThrough() async {
    let d = LogDir(); defer { d.remove() }
    d.write(d.path, ["not a cri line\n", LogDir.record("ok", second: 1)])
    #expect(await collect(ContainerLogReader(path: d.path, options: .init())) == "not a cri line\nok\n")
}

@Test func rfc3339ParsesAndFormats() throws {
    let t = try #require(RFC3339.parse("2024-05-06T07:08:09.5Z"))
    #expect(t.timeIntervalSince1970 == 1_714_979_289.5)
    #expect(RFC3339.parse("2024-05-06T09:08:09+02:00")?.timeIntervalSince1970 == 1_714_979_289)
    #expect(RFC3339.parse("yesterday") == nil)
    #expect(RFC3339.format(t) == "2024-05-06T07:08:09.5Z")
}

/// Whether the container still runs, switched by the test.
private final class Running: @unchecked Sendable {
    private let lock = NSLock()
    private var value = true
    var isRunning: Bool { lock.withLock { value } }
    func stop() { lock.withLock { value = false } }
}

@Test func logReaderFollowsAppendsAndRotationUntilTheContainerStops() async throws {
    let d = LogDir(); defer { d.remove() }
    d.write(d.path, [LogDir.record("first", second: 1)])
    let running = Running()
    let reader = ContainerLogReader(path: d.path, options: .init(follow: true), pollInterval: .milliseconds(20)) { running.isRunning }
    var it = reader.makeAsyncIterator()
    #expect(await it.next().map { String(decoding: $0, as: UTF8.self) } == "first\n")

    d.append(d.path, [LogDir.record("second", second: 2)])
    #expect(await it.next().map { String(decoding: $0, as: UTF8.self) } == "second\n")

    // The shim rotates: the old file gets one more line, is renamed, a new file starts.
    d.append(d.path, [LogDir.record("third", second: 3)])
    try FileManager.default.moveItem(atPath: d.path, toPath: d.path + ".1")
    d.write(d.path, [LogDir.record("fourth", second: 4)])
    var seen = ""
    while seen != "third\nfourth\n", let chunk = await it.next() { seen += String(decoding: chunk, as: UTF8.self) }
    #expect(seen == "third\nfourth\n")

    d.append(d.path, [LogDir.record("last", second: 5)])
    running.stop()
    var rest = ""
    while let chunk = await it.next() { rest += String(decoding: chunk, as: UTF8.self) }
    #expect(rest == "last\n")
}

@Test func logReaderFollowEndsAtOnceForAStoppedContainer() async {
    let d = LogDir(); defer { d.remove() }
    rotated(d)
    let out = await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 2, follow: true), pollInterval: .milliseconds(20)) { false })
    #expect(out == "e\nf\n")
}

@Test func logReaderReturnsALiveFileLargerThanOneChunkWhole() async {
    let d = LogDir(); defer { d.remove() }
    // ~6 MiB: more than one 4 MiB read of the live file.
    let line = String(repeating: "x", count: 1000)
    d.write(d.path, (0..<6000).map { LogDir.record("\(line)\($0)", second: $0 % 60) })
    let all = await collect(ContainerLogReader(path: d.path, options: .init()))
    let lines = all.split(separator: "\n")
    #expect(lines.count == 6000)
    #expect(lines.last?.hasSuffix("x5999") == true)
    let tail = await collect(ContainerLogReader(path: d.path, options: .init(tailLines: 2)))
    #expect(tail == "\(line)5998\n\(line)5999\n")
}
