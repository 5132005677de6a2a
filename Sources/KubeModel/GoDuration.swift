/// Durations written as Go writes them (`time.Duration`): what Kubernetes flags and
/// `metav1.Duration` fields use (`15s`, `1m30s`, `500ms`).
public enum GoDuration {
    /// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
    public static func format(nanoseconds ns: Int64) -> String {
        if ns == 0 { return "0s" }
        var u = ns.magnitude
        let sign = ns < 0 ? "-" : ""
        /// Fraction of `v / 10^precision` without trailing zeros (".5"), and the whole part.
        func frac(_ v: UInt64, _ precision: Int) -> (String, UInt64) {
            var digits = ""
            var v = v
            var printed = false
            for _ in 0..<precision {
                let d = v % 10
                printed = printed || d != 0
                if printed { digits = String(d) + digits }
                v /= 10
            }
            return (digits.isEmpty ? "" : "." + digits, v)
        }
        if u < 1_000_000_000 {
            if u < 1000 { return sign + "\(u)ns" }
            let (f, whole) = u < 1_000_000 ? frac(u, 3) : frac(u, 6)
            return sign + "\(whole)\(f)" + (u < 1_000_000 ? "µs" : "ms")
        }
        let (f, secs) = frac(u, 9)
        u = secs
        var out = "\(u % 60)\(f)s"
        u /= 60
        if u > 0 {
            out = "\(u % 60)m" + out
            u /= 60
            if u > 0 { out = "\(u)h" + out }
        }
        return sign + out
    }

    /// Go's `time.ParseDuration`: decimal numbers with a unit each (`ns`, `us`, `µs`, `ms`,
    /// `s`, `m`, `h`), optionally signed, e.g. `1.5s`, `1m30s`; a bare `0` is zero. Nil when
    /// the text is not a duration.
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return .zero }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        guard total.isFinite, total < 9.2e18 else { return nil }
        let ns = Int64(total.rounded())
        return .nanoseconds(negative ? -ns : ns)
    }
}
