/// Query parameters as Go clients encode them (`url.Values`: `+` for a space, `%XX`), with
/// repeated keys kept in order (`command=sh&command=-c`). Hummingbird's own parser leaves `+`.
struct KubeletQuery: Sendable {
    private var values: [String: [String]] = [:]

    init(_ query: String?) {
        guard let query else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[Self.decode(parts[0]), default: []].append(parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    func get(_ key: String) -> String? { values[key]?.first }
    func getAll(_ key: String) -> [String] { values[key] ?? [] }

    static func decode(_ s: Substring) -> String {
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let c = bytes.popFirst() {
            if c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if c == UInt8(ascii: "%"), bytes.count >= 2, let h = hex(bytes[bytes.startIndex]),
                      let l = hex(bytes[bytes.startIndex + 1]) {
                out.append(h << 4 | l)
                bytes = bytes.dropFirst(2)
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
