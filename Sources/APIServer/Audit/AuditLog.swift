import Foundation
import ServiceLifecycle
import Synchronization

/// The audit log: `record` queues an event without ever blocking the request (a full queue
/// drops and counts), and `run`, a ServiceLifecycle service, is the one task that drains the
/// queue into `DIR/audit.log`, rotating it by size.
public final class AuditLog: Service, Sendable {
    /// The level events are logged at; `.none` logs nothing.
    public let level: AuditLevel
    let path: String
    let maxBytes: Int
    let maxBackups: Int
    private let stream: AsyncStream<AuditEvent>
    private let continuation: AsyncStream<AuditEvent>.Continuation
    private let dropCount = Atomic<Int>(0)

    /// A log at `path`, rotated beyond `maxBytes` keeping `maxBackups` old files
    /// (`audit.log.1` is the newest); at most `capacity` events wait for the writer.
    public init(path: String, level: AuditLevel = .metadata, maxBytes: Int = 100 << 20, maxBackups: Int = 5,
                capacity: Int = 10_000) {
        self.path = path
        self.level = level
        self.maxBytes = max(1, maxBytes)
        self.maxBackups = max(0, maxBackups)
        (stream, continuation) = AsyncStream.makeStream(of: AuditEvent.self, bufferingPolicy: .bufferingOldest(max(1, capacity)))
    }

    /// Events dropped because the queue was full or the writer had stopped.
    public var dropped: Int { dropCount.load(ordering: .relaxed) }

    /// Queues `event`; false (and counted) when it was dropped.
    @discardableResult
    public func record(_ event: AuditEvent) -> Bool {
        guard level != .none else { return false }
        if case .enqueued = continuation.yield(event) { return true }
        dropCount.add(1, ordering: .relaxed)
        return false
    }

    /// Writes queued events until shutdown, then the ones still queued.
    public func run() async throws {
        var file = try AuditFile(path: path, maxBytes: maxBytes, maxBackups: maxBackups)
        defer { file.close() }
        await withGracefulShutdownHandler {
            for await event in stream {
                // A failed write (disk full) must not stop the server; the event counts as dropped.
                do { try file.append(event.line(level: level)) } catch { dropCount.add(1, ordering: .relaxed) }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    /// Stops accepting events; `run` returns once the queue is written.
    public func finish() { continuation.finish() }
}

/// The open log file and its size-based rotation: `audit.log` → `audit.log.1` → … →
/// `audit.log.N`, the oldest removed. Owned by the writer task alone.
struct AuditFile {
    let path: String
    let maxBytes: Int
    let maxBackups: Int
    private var handle: FileHandle
    private(set) var size: Int

    init(path: String, maxBytes: Int, maxBackups: Int) throws {
        self.path = path
        self.maxBytes = maxBytes
        self.maxBackups = maxBackups
        (handle, size) = try Self.open(path)
    }

    static func open(_ path: String) throws -> (FileHandle, Int) {
        let fm = FileManager.default
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // 0600: user names and request paths are for the operator only.
        if !fm.fileExists(atPath: path) { fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
        let end = try h.seekToEnd()
        return (h, Int(end))
    }

    /// Appends one line, rotating first when it would push the file past `maxBytes`.
    mutating func append(_ line: [UInt8]) throws {
        if size > 0 && size + line.count > maxBytes { try rotate() }
        try handle.write(contentsOf: line)
        size += line.count
    }

    mutating func rotate() throws {
        try handle.close()
        let fm = FileManager.default
        if maxBackups == 0 {
            try? fm.removeItem(atPath: path)
        } else {
            try? fm.removeItem(atPath: "\(path).\(maxBackups)")
            for i in stride(from: maxBackups - 1, through: 1, by: -1) where fm.fileExists(atPath: "\(path).\(i)") {
                try? fm.moveItem(atPath: "\(path).\(i)", toPath: "\(path).\(i + 1)")
            }
            try? fm.moveItem(atPath: path, toPath: "\(path).1")
        }
        (handle, size) = try Self.open(path)
    }

    func close() { try? handle.close() }
}
