/// Query parameters as Go's url.ParseQuery reads them: `+` is a space, %XX decoded,
/// repeated keys keep every value, and a broken %XX escape is an error. The API server and the
/// kubelet read their requests' queries with it (Hummingbird's own parser leaves `+`).
public struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]
    /// Go's error for the first broken escape (`invalid URL escape "%zz"`); such a request is
    /// answered 400 rather than read as if the parameter were not there.
    public private(set) var malformed: String?

    public init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Self.decode(parts[0]), let value = parts.count > 1 ? Self.decode(parts[1]) : "" else {
                if malformed == nil { malformed = Self.escapeError(pair) }
                continue
            }
            values[key, default: []].append(value)
        }
    }

    public subscript(_ key: String) -> String? { values[key]?.first }

    /// Every value of a repeated key, in order (`command=sh&command=-c`).
    public func all(_ key: String) -> [String] { values[key] ?? [] }

    public func has(_ key: String) -> Bool { values[key] != nil }

    /// Go's EscapeError text for the first bad escape in `pair`.
    public static func escapeError(_ pair: Substring) -> String {
        let bytes = Array(pair.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                if i + 2 >= bytes.count || hex(bytes[i + 1]) == nil || hex(bytes[i + 2]) == nil {
                    let bad = String(decoding: bytes[i..<min(bytes.count, i + 3)], as: UTF8.self)
                    return "invalid URL escape \"\(bad)\""
                }
                i += 3
            } else {
                i += 1
            }
        }
        return "invalid URL escape"
    }

    /// Nil when an escape is broken (`%` not followed by two hex digits).
    public static func decode(_ s: Substring) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%") {
                guard it.count >= 2, let h = hex(it[it.startIndex]), let l = hex(it[it.startIndex + 1]) else { return nil }
                out.append(h << 4 | l)
                it = it.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
