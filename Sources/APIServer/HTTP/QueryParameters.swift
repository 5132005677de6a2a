/// Query parameters as Go's url.ParseQuery reads them: `+` is a space, %XX decoded,
/// repeated keys keep every value.
public struct QueryParameters: Sendable {
    private var values: [String: [String]] = [:]

    public init(_ query: String?) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            values[key, default: []].append(value)
        }
    }

    public subscript(_ key: String) -> String? { values[key]?.first }

    public func has(_ key: String) -> Bool { values[key] != nil }

    /// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    public func bool(_ key: String) throws(APIError) -> Bool {
        guard let v = self[key] else { return false }
        switch v {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False", "": return false
        default: throw APIError.badRequest("invalid boolean value \"\(v)\" for query parameter \(key)")
        }
    }

    public func int(_ key: String) throws(APIError) -> Int64? {
        guard let v = self[key], !v.isEmpty else { return nil }
        guard let i = Int64(v) else { throw APIError.badRequest("invalid integer value \"\(v)\" for query parameter \(key)") }
        return i
    }

    static func decode(_ s: Substring) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%"), it.count >= 2, let h = hex(it[it.startIndex]), let l = hex(it[it.startIndex + 1]) {
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
