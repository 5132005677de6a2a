import Foundation

/// Reads a container's CRI log (`N.log` and its rotated `N.log.1`, `N.log.2`, … with higher
/// numbers older) as `kubectl logs` shows it: whole lines, optionally stamped, filtered by
/// time, tail and byte limit. With `follow` it keeps polling the live file, survives
/// rotation, and ends once `stillRunning()` says the container stopped and the file is drained.
///
/// A pull-based sequence: the file is only read as fast as the consumer (an HTTP response)
/// takes chunks, so a slow client cannot make the kubelet buffer a growing log.
public struct ContainerLogReader: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    public let path: String
    public let options: LogOptions
    public let pollInterval: Duration
    public let stillRunning: @Sendable () async -> Bool

    public init(path: String, options: LogOptions, pollInterval: Duration = .milliseconds(100),
                stillRunning: @escaping @Sendable () async -> Bool = { false }) {
        self.path = path
        self.options = options
        self.pollInterval = pollInterval
        self.stillRunning = stillRunning
    }

    public func makeAsyncIterator() -> Iterator { Iterator(cursor: LogCursor(self)) }

    /// The same output pushed into an `AsyncStream` by a task that stops when the stream is dropped.
    public func stream() -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            let task = Task {
                for await chunk in self { continuation.yield(chunk) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Rotated siblings of `path`, oldest first (`path.3`, `path.2`, `path.1`).
    public static func rotatedFiles(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let base = url.lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)) ?? []
        let numbered = names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix(base), let n = Int(name.dropFirst(base.count)), n > 0 else { return nil }
            return (n, url.deletingLastPathComponent().appendingPathComponent(name).path)
        }
        return numbered.sorted { $0.0 > $1.0 }.map(\.1)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let cursor: LogCursor
        public mutating func next() async -> [UInt8]? { await cursor.next() }
    }
}

/// The reading state of one `ContainerLogReader` iteration.
public final class LogCursor {
    private let reader: ContainerLogReader
    private var options: LogOptions { reader.options }
    private var started = false
    private var finished = false
    private var joiner = PartialJoiner()
    /// The live file being followed, and its inode to notice rotation.
    private var fd: Int32 = -1
    private var inode: UInt64 = 0
    /// Bytes after the last newline of the live file (a record still being written).
    private var leftover: [UInt8] = []
    private var bytesLeft: Int
    /// Rotated files not yet sent (oldest first), when no tail was asked for.
    private var unreadRotated: [String] = []

    init(_ reader: ContainerLogReader) {
        self.reader = reader
        self.bytesLeft = reader.options.limitBytes.map { max(0, $0) } ?? Int.max
    }

    deinit { if fd >= 0 { close(fd) } }

    func next() async -> [UInt8]? {
        if finished { return nil }
        if !started {
            started = true
            openLive()  // first, so lines written while the rotated files are read are not lost
            if let tail = options.tailLines {
                let out = tailed(max(0, tail))
                if !options.follow { finished = true }
                if !out.isEmpty { return limited(out) }
                if finished { return nil }
            } else {
                unreadRotated = ContainerLogReader.rotatedFiles(of: reader.path)
            }
        }
        // Everything already logged goes out a file, or a bounded chunk of the live file, at a time.
        while !unreadRotated.isEmpty {
            let out = render(lines(ofFile: unreadRotated.removeFirst()))
            if !out.isEmpty { return limited(out) }
        }
        if !options.follow {
            let live = readLive()
            if !live.isEmpty {
                let out = render(live)
                return out.isEmpty ? await next() : limited(out)
            }
            finished = true
            let out = render(joiner.drain())
            return out.isEmpty ? nil : limited(out)
        }
        while !Task.isCancelled {
            var out = render(readLive())
            if !out.isEmpty { return limited(out) }
            let rotation = reopenIfRotated()
            if rotation.rotated {
                out = render(rotation.rest)
                if !out.isEmpty { return limited(out) }
                continue
            }
            // Check, then drain once more: a line written just before the container exited
            // still goes out, and nothing written after the check is missed.
            let running = await reader.stillRunning()
            out = render(readLive())
            if !out.isEmpty { return limited(out) }
            if !running && !reopenIfRotated().rotated {
                finished = true
                out = render(joiner.drain())
                return out.isEmpty ? nil : limited(out)
            }
            do { try await Task.sleep(for: reader.pollInterval) } catch { break }
        }
        finished = true
        return nil
    }

    /// The last `count` admitted lines logged so far (rotated files oldest first, then the
    /// live file up to now), keeping no more than about twice that many in memory.
    private func tailed(_ count: Int) -> [UInt8] {
        var kept: [LogLine] = []
        func keep(_ new: [LogLine]) {
            kept += new.filter(admitted)
            if kept.count > 2 * count + 1024 { kept = Array(kept.suffix(count)) }
        }
        for file in ContainerLogReader.rotatedFiles(of: reader.path) { keep(lines(ofFile: file)) }
        while true {
            let live = readLive()
            if live.isEmpty { break }
            keep(live)
        }
        if !options.follow { keep(joiner.drain()) }
        return kept.suffix(count).flatMap { $0.rendered(timestamps: options.timestamps) }
    }

    /// The complete lines of a rotated file (bounded by the rotation size).
    private func lines(ofFile file: String) -> [LogLine] {
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        var bytes = [UInt8](data)
        if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
        return parse(bytes[...])
    }

    private func admitted(_ line: LogLine) -> Bool {
        guard let since = options.since, let time = line.time else { return true }
        return time >= since
    }

    private func render(_ lines: [LogLine]) -> [UInt8] {
        lines.filter(admitted).flatMap { $0.rendered(timestamps: options.timestamps) }
    }

    /// Applies `limitBytes`; the chunk that reaches it is the last.
    private func limited(_ out: [UInt8]) -> [UInt8]? {
        guard bytesLeft < Int.max else { return out }
        if out.count >= bytesLeft { finished = true }
        let chunk = Array(out.prefix(bytesLeft))
        bytesLeft -= chunk.count
        return chunk.isEmpty ? nil : chunk
    }

    /// Complete records of `bytes` (which must end at a newline) as joined lines.
    private func parse(_ bytes: ArraySlice<UInt8>) -> [LogLine] {
        var lines: [LogLine] = []
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            if let line = joiner.add(LogRecord.parse(raw)) { lines.append(line) }
        }
        return lines
    }

    // MARK: the live file

    private func openLive() {
        fd = open(reader.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var st = stat()
        inode = fstat(fd, &st) == 0 ? UInt64(st.st_ino) : 0
    }

    /// New complete records of the live file.
    private func readLive() -> [LogLine] {
        if fd < 0 { openLive() }
        guard fd >= 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var data = leftover
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            if data.count > 4 << 20 { break }  // hand out a bounded chunk; the rest follows
        }
        guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { leftover = data; return [] }
        leftover = Array(data[(end + 1)...])
        return parse(data[...end])
    }

    /// Whether `path` now names another file (the shim rotated it); if so, switches to the new
    /// file from its start and returns what was appended to the old one since the last read.
    private func reopenIfRotated() -> (rotated: Bool, rest: [LogLine]) {
        var st = stat()
        guard stat(reader.path, &st) == 0 else { return (false, []) }
        guard fd < 0 || UInt64(st.st_ino) != inode else { return (false, []) }
        var rest: [LogLine] = []
        if fd >= 0 {
            rest = readLive()
            close(fd)
            fd = -1
        }
        openLive()
        return (true, rest)
    }
}
