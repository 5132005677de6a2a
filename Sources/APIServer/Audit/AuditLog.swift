import Foundation
import ServiceLifecycle
import Synchronization

/// The audit log: `record` queues an event without ever blocking the request (a full queue
/// drops and counts), and `run`, a ServiceLifecycle service, is the one task that drains the
/// queue into `DIR/audit.log`, rotating it by size. The writer takes every event waiting at
/// once and writes their lines together: one `write(2)` a batch, not one a request.
public final class AuditLog: Service, Sendable {
    /// The level events are logged at; `.none` logs nothing.
    public let level: AuditLevel
    let path: String
    let maxBytes: Int
    let maxBackups: Int
    let capacity: Int
    private let queue = Mutex(Queue())
    /// Rung after each queued event; holds at most one ring, so a busy writer is not woken
    /// once per event.
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    private let dropCount = Atomic<Int>(0)

    private struct Queue {
        var events: [AuditEvent] = []
        var closed = false
    }

    /// A log at `path`, rotated beyond `maxBytes` keeping `maxBackups` old files
    /// (`audit.log.1` is the newest); at most `capacity` events wait for the writer.
    public init(path: String, level: AuditLevel = .metadata, maxBytes: Int = 100 << 20, maxBackups: Int = 5,
                capacity: Int = 10_000) {
        self.path = path
        self.level = level
        self.maxBytes = max(1, maxBytes)
        self.maxBackups = max(0, maxBackups)
        self.capacity = max(1, capacity)
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Events dropped because the queue was full or the writer had stopped.
    public var dropped: Int { dropCount.load(ordering: .relaxed) }

    /// Queues `event`; false (and counted) when it was dropped.
    @discardableResult
    public func record(_ event: AuditEvent) -> Bool {
        guard level != .none else { return false }
        let queued = queue.withLock { q in
            guard !q.closed, q.events.count < capacity else { return false }
            q.events.append(event)
            return true
        }
        guard queued else {
            dropCount.add(1, ordering: .relaxed)
            return false
        }
        ring.yield()
        return true
    }

    /// Writes queued events until shutdown, then the ones still queued.
    public func run() async throws {
        var file = try AuditFile(path: path, maxBytes: maxBytes, maxBackups: maxBackups)
        defer { file.close() }
        await withGracefulShutdownHandler {
            for await _ in doorbell { write(takeQueued(), to: &file) }
            // Events queued between the last ring and the close.
            write(takeQueued(), to: &file)
        } onGracefulShutdown: {
            self.finish()
        }
    }

    private func takeQueued() -> [AuditEvent] {
        queue.withLock { q in
            let taken = q.events
            q.events = []
            return taken
        }
    }

    private func write(_ events: [AuditEvent], to file: inout AuditFile) {
        guard !events.isEmpty else { return }
        // A failed write (disk full) must not stop the server; its events count as dropped.
        do { try file.append(events.map { $0.line(level: level) }) } catch { dropCount.add(events.count, ordering: .relaxed) }
    }

    /// Stops accepting events; `run` returns once the queue is written.
    public func finish() {
        queue.withLock { $0.closed = true }
        ring.finish()
    }
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
        if !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
        let end = try h.seekToEnd()
        return (h, Int(end))
    }

    /// Appends lines, rotating first before a line that would push the file past `maxBytes`;
    /// the lines between rotations go out in one write.
    mutating func append(_ lines: [[UInt8]]) throws {
        var pending: [UInt8] = []
        for line in lines {
            if size + pending.count > 0 && size + pending.count + line.count > maxBytes {
                try flush(&pending)
                if size > 0 { try rotate() }
            }
            pending.append(contentsOf: line)
        }
        try flush(&pending)
    }

    private mutating func flush(_ pending: inout [UInt8]) throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        size += pending.count
        pending.removeAll(keepingCapacity: true)
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
