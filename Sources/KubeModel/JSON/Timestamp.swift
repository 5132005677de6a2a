import Foundation

/// RFC 3339 timestamps as Kubernetes writes them (`2026-01-02T03:04:05Z`, second precision;
/// `MicroTime` fields use microseconds).
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var tmv = tm()
        gmtime_r(&t, &tmv)
        // Written digit by digit: String(format:) goes through NSString, and every write stamps times.
        var out = [UInt8]()
        out.reserveCapacity(27)
        digits(Int(tmv.tm_year) + 1900, 4, &out); out.append(UInt8(ascii: "-"))
        digits(Int(tmv.tm_mon) + 1, 2, &out); out.append(UInt8(ascii: "-"))
        digits(Int(tmv.tm_mday), 2, &out); out.append(UInt8(ascii: "T"))
        digits(Int(tmv.tm_hour), 2, &out); out.append(UInt8(ascii: ":"))
        digits(Int(tmv.tm_min), 2, &out); out.append(UInt8(ascii: ":"))
        digits(Int(tmv.tm_sec), 2, &out); out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3339 with microseconds, as Kubernetes' MicroTime.
    public static func formatMicro(_ date: Date) -> String {
        let secs = date.timeIntervalSince1970.rounded(.down)
        let micros = min(999_999, max(0, Int(((date.timeIntervalSince1970 - secs) * 1_000_000).rounded())))
        var out = Array(format(date).utf8.dropLast())
        out.append(UInt8(ascii: "."))
        digits(micros, 6, &out)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `value` in decimal, zero-padded to `width` digits.
    private static func digits(_ value: Int, _ width: Int, _ out: inout [UInt8]) {
        var v = max(0, value)
        var buf = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var i = width - 1
        while i >= 0 {
            buf[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        }
        out += buf
    }

    public static func now() -> String { format(Date()) }

    /// Parses RFC 3339 with optional fractional seconds and a `Z` or `±hh:mm` offset.
    public static func parse(_ s: String) -> Date? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                let c = b[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58, let mi = num(14, 2), b[16] == 58,
              let sec = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, sec < 61
        else { return nil }
        var i = 19
        var frac = 0.0
        if i < b.count && b[i] == 46 {
            i += 1
            var scale = 0.1
            while i < b.count && b[i] >= 48 && b[i] <= 57 { frac += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        var tmv = tm()
        tmv.tm_year = Int32(y - 1900); tmv.tm_mon = Int32(mo - 1); tmv.tm_mday = Int32(d)
        tmv.tm_hour = Int32(h); tmv.tm_min = Int32(mi); tmv.tm_sec = Int32(sec)
        let t = timegm(&tmv)
        return Date(timeIntervalSince1970: Double(t - offset) + frac)
    }
}
