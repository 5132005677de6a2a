#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Serializes `JSONValue` like Go's `encoding/json`: keys sorted by bytes, HTML-sensitive
/// characters escaped, so output is deterministic and byte-compatible with Kubernetes.
public enum JSONWriter {
    /// Appends the compact encoding of `value` to `into`.
    public static func write(_ value: JSONValue, into: inout [UInt8]) {
        writeValue(value, &into, indent: nil, level: 0)
    }

    /// Compact encoding as bytes.
    public static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    /// Compact encoding as a `String`.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: bytes(value), as: UTF8.self)
    }

    /// Indented encoding (four spaces, like `kubectl get -o json`).
    public static func prettyString(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        writeValue(value, &out, indent: 4, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    static func newline(_ out: inout [UInt8], _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out.append(0x0A)
        out.append(contentsOf: repeatElement(0x20, count: indent * level))
    }

    private static func writeValue(_ value: JSONValue, _ out: inout [UInt8], indent: Int?, level: Int) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .int(let n): writeInt(n, &out)
        case .double(let d): writeDouble(d, &out)
        case .string(let s): writeString(s, &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, indent, level + 1)
                writeValue(v, &out, indent: indent, level: level + 1)
            }
            if !a.isEmpty { newline(&out, indent, level) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, v) in o.sorted(by: { byteOrder($0.key, $1.key) }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                newline(&out, indent, level + 1)
                writeString(key, &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(0x20) }
                writeValue(v, &out, indent: indent, level: level + 1)
            }
            if !o.isEmpty { newline(&out, indent, level) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// UTF-8 byte order (Go sorts map keys by bytes); `String.<` would follow Unicode
    /// normalization and could order differently.
    @inline(__always) static func byteOrder(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                let n = min(pa.count, pb.count)
                if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                    let c = memcmp(x, y, n)
                    if c != 0 { return c < 0 }
                }
                return pa.count < pb.count
            }
        }
    }

    /// Appends `n` in decimal: for writers that lay out a fixed shape without a `JSONValue`.
    public static func writeInt(_ n: Int64, _ out: inout [UInt8]) {
        if n == 0 { out.append(UInt8(ascii: "0")); return }
        // Work with the magnitude as UInt64 so Int64.min has no overflow.
        var m = n.magnitude
        if n < 0 { out.append(UInt8(ascii: "-")) }
        let start = out.count
        while m > 0 {
            out.append(UInt8(48 + m % 10))
            m /= 10
        }
        out[start...].reverse()
    }

    static func writeDouble(_ d: Double, _ out: inout [UInt8]) {
        // JSON has no NaN/Infinity; null is the least surprising stand-in (Go refuses them).
        guard d.isFinite else { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]); return }
        // Whole numbers print without ".0" as Go does; 2^63 is exactly representable.
        if d == d.rounded(), abs(d) < 9_223_372_036_854_775_808.0 {
            if d == 0 && d.sign == .minus { out.append(contentsOf: Array("-0".utf8)); return }
            writeInt(Int64(d), &out)
            return
        }
        // Swift's description is the shortest round-tripping form, e.g. 0.1, 1e-07, 1e+30.
        out.append(contentsOf: d.description.utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` quoted and escaped as Go does.
    public static func writeString(_ s: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buf in
            var runStart = 0
            var i = 0
            while i < buf.count {
                let c = buf[i]
                var esc: UInt8 = 0  // short escape letter, or 0 for \u00XX
                var needs = false
                var width = 1
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): needs = true; esc = c
                case 0x0A: needs = true; esc = UInt8(ascii: "n")
                case 0x0D: needs = true; esc = UInt8(ascii: "r")
                case 0x09: needs = true; esc = UInt8(ascii: "t")
                case 0..<0x20, UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"): needs = true
                case 0xE2:
                    // U+2028/U+2029 break JavaScript string literals; Go escapes them.
                    if i + 2 < buf.count, buf[i + 1] == 0x80, buf[i + 2] == 0xA8 || buf[i + 2] == 0xA9 {
                        needs = true
                        width = 3
                    }
                default: break
                }
                guard needs else { i += 1; continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<i]))
                out.append(UInt8(ascii: "\\"))
                if esc != 0 {
                    out.append(esc)
                } else if width == 3 {
                    out.append(contentsOf: [UInt8(ascii: "u"), 0x32, 0x30, 0x32, buf[i + 2] == 0xA8 ? 0x38 : 0x39])
                } else {
                    out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
                i += width
                runStart = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<buf.count]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
