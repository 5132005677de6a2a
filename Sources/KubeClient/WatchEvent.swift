import KubeModel

/// One event of a watch stream: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
/// An `ERROR` event carries a `Status` object (e.g. 410 Gone when the resource version is too
/// old); it is delivered, not thrown, so the caller decides whether to relist.
public struct WatchEvent: Sendable, Equatable {
    /// `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`.
    public var type: String
    /// The object as of this event (a `Status` for `ERROR`).
    public var object: JSONValue

    /// An event with the given type and object.
    public init(type: String, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// The error an `ERROR` event stands for; `nil` for other types.
    public var apiError: KubeAPIError? {
        guard type == "ERROR" else { return nil }
        return KubeAPIError(status: object, httpCode: 500, httpReason: "Internal Server Error")
    }

    /// Decodes one watch line, `{"type":"ADDED","object":{...}}`.
    public static func decode<C: Collection>(line: C) throws -> WatchEvent where C.Element == UInt8 {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw WatchDecodingError("watch event is not JSON: \(error)")
        }
        guard let type = value["type"]?.stringValue, !type.isEmpty else {
            throw WatchDecodingError("watch event has no type")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw WatchDecodingError("watch event \(type) has no object")
        }
        return WatchEvent(type: type, object: object)
    }
}

/// A watch stream sent something that is not a well-formed event.
public struct WatchDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the stream.
    public var message: String
    /// An error with the given message.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Splits a byte stream into newline-terminated lines. HTTP chunk boundaries have no meaning in a
/// watch stream, so a partial line is kept until its newline (or the end of the stream) arrives.
public struct LineSplitter: Sendable {
    private var pending: [UInt8] = []
    /// Longest line accepted; a runaway line would otherwise grow the buffer without bound.
    public let maxLineBytes: Int

    /// A splitter refusing lines longer than `maxLineBytes`.
    public init(maxLineBytes: Int = 64 << 20) { self.maxLineBytes = maxLineBytes }

    /// Feeds a chunk and returns the complete lines it finishes, without their `\n` or `\r\n`.
    /// Empty lines are dropped (servers may send them as keep-alives).
    public mutating func feed<C: Collection>(_ chunk: C) throws -> [[UInt8]] where C.Element == UInt8 {
        var lines: [[UInt8]] = []
        var start = chunk.startIndex
        while let nl = chunk[start...].firstIndex(of: 0x0A) {
            pending.append(contentsOf: chunk[start..<nl])
            if let line = takePending() { lines.append(line) }
            start = chunk.index(after: nl)
        }
        pending.append(contentsOf: chunk[start...])
        guard pending.count <= maxLineBytes else {
            throw WatchDecodingError("watch line longer than \(maxLineBytes) bytes")
        }
        return lines
    }

    /// The unterminated last line, if any, once the stream has ended.
    public mutating func finish() -> [UInt8]? { takePending() }

    private mutating func takePending() -> [UInt8]? {
        var line = pending
        pending.removeAll(keepingCapacity: true)
        if line.last == 0x0D { line.removeLast() }
        return line.isEmpty ? nil : line
    }
}
