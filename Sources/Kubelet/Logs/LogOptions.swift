import Foundation

/// What `kubectl logs` asks for (the kubelet's `/containerLogs` query parameters).
public struct LogOptions: Sendable, Equatable {
    /// Only the last N lines (of what `since` leaves).
    public var tailLines: Int?
    /// Only lines logged at or after this instant (`sinceSeconds` / `sinceTime`).
    public var since: Date?
    /// Prefix each line with its RFC3339Nano stamp.
    public var timestamps: Bool
    /// Stop after this many bytes of output.
    public var limitBytes: Int?
    /// Keep streaming new lines while the container runs.
    public var follow: Bool

    public init(tailLines: Int? = nil, since: Date? = nil, timestamps: Bool = false, limitBytes: Int? = nil, follow: Bool = false) {
        self.tailLines = tailLines
        self.since = since
        self.timestamps = timestamps
        self.limitBytes = limitBytes
        self.follow = follow
    }
}

/// One record of a CRI log file: `<RFC3339Nano> <stdout|stderr> <F|P> <text>`.
struct LogRecord: Equatable {
    /// The stamp as written (what `--timestamps` prints).
    var stamp: Substring
    var time: Date?
    var stream: Substring
    /// False for `P`: the line continues in the stream's next record.
    var complete: Bool
    var text: ArraySlice<UInt8>

    /// Parses one line (without its newline). A line not in that shape passes through as a
    /// complete stdout line without a stamp, rather than being lost.
    static func parse(_ line: ArraySlice<UInt8>) -> LogRecord {
        let space = UInt8(ascii: " ")
        var fields: [ArraySlice<UInt8>] = []
        var rest = line
        for _ in 0..<3 {
            guard let i = rest.firstIndex(of: space) else { break }
            fields.append(rest[rest.startIndex..<i])
            rest = rest[(i + 1)...]
        }
        guard fields.count == 3, let time = RFC3339.parse(fields[0]),
              fields[2] == [UInt8(ascii: "F")] || fields[2] == [UInt8(ascii: "P")] else {
            return LogRecord(stamp: "", time: nil, stream: "stdout", complete: true, text: line)
        }
        return LogRecord(stamp: Substring(decoding: fields[0], as: UTF8.self), time: time,
                         stream: Substring(decoding: fields[1], as: UTF8.self),
                         complete: fields[2].first == UInt8(ascii: "F"), text: rest)
    }
}

/// A whole line after joining partial records, stamped with its first record's time.
struct LogLine: Equatable {
    var stamp: Substring
    var time: Date?
    var text: [UInt8]
    /// False only for a trailing partial line emitted when the log ends.
    var terminated: Bool = true

    func rendered(timestamps: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count + stamp.utf8.count + 2)
        if timestamps && !stamp.isEmpty { out.append(contentsOf: stamp.utf8); out.append(UInt8(ascii: " ")) }
        out.append(contentsOf: text)
        if terminated { out.append(UInt8(ascii: "\n")) }
        return out
    }
}

/// Joins `P` records with the records that complete them, per stream (stdout and stderr
/// interleave in one file).
struct PartialJoiner {
    private var pending: [Substring: LogLine] = [:]

    mutating func add(_ r: LogRecord) -> LogLine? {
        var line = pending.removeValue(forKey: r.stream) ?? LogLine(stamp: r.stamp, time: r.time, text: [])
        line.text.append(contentsOf: r.text)
        if r.complete { return line }
        pending[r.stream] = line
        return nil
    }

    /// Lines still waiting for their end, oldest first, marked unterminated.
    mutating func drain() -> [LogLine] {
        let lines = pending.values.sorted { ($0.time ?? .distantPast) < ($1.time ?? .distantPast) }
        pending = [:]
        return lines.map { var l = $0; l.terminated = false; return l }
    }
}

/// RFC 3339 timestamps with optional fraction (up to nanoseconds) and `Z` or an offset.
enum RFC3339 {
    static func parse(_ s: Substring) -> Date? { parse(Array(s.utf8)[...]) }

    static func parse(_ b: ArraySlice<UInt8>) -> Date? {
        let a = Array(b)
        guard a.count >= 20 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<from + len {
                let c = a[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let year = num(0, 4), a[4] == UInt8(ascii: "-"), let month = num(5, 2), a[7] == UInt8(ascii: "-"),
              let day = num(8, 2), a[10] == UInt8(ascii: "T") || a[10] == UInt8(ascii: "t"),
              let hour = num(11, 2), a[13] == UInt8(ascii: ":"), let minute = num(14, 2), a[16] == UInt8(ascii: ":"),
              let second = num(17, 2) else { return nil }
        var i = 19
        var fraction = 0.0
        if a[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            while i < a.count, a[i] >= 48, a[i] <= 57 {
                fraction += Double(a[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        guard i < a.count else { return nil }
        var offset = 0
        if a[i] == UInt8(ascii: "Z") || a[i] == UInt8(ascii: "z") {
            guard i + 1 == a.count else { return nil }
        } else if a[i] == UInt8(ascii: "+") || a[i] == UInt8(ascii: "-") {
            guard i + 6 == a.count, let oh = num(i + 1, 2), a[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2) else { return nil }
            offset = (oh * 3600 + om * 60) * (a[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        let seconds = timegm(&t)
        return Date(timeIntervalSince1970: Double(seconds - offset) + fraction)
    }

    /// `2006-01-02T15:04:05.999999999Z` for `date` (trailing zeros of the fraction dropped).
    static func format(_ date: Date) -> String {
        let whole = floor(date.timeIntervalSince1970)
        var t = time_t(whole)
        var parts = tm()
        gmtime_r(&t, &parts)
        var nanos = Int(((date.timeIntervalSince1970 - whole) * 1e9).rounded())
        if nanos >= 1_000_000_000 { nanos = 999_999_999 }
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                       Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if nanos > 0 {
            var frac = String(format: "%09d", nanos)
            while frac.hasSuffix("0") { frac.removeLast() }
            s += "." + frac
        }
        return s + "Z"
    }
}
