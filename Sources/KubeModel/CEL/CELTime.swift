import Foundation

/// `duration()` and `timestamp()` with their text forms and accessors. Both are held as
/// nanoseconds in an int64 (timestamps from 1678 to 2262), which every Kubernetes rule fits.
enum CELTime {
    static func construct(_ name: String, _ v: CELValue) throws(CELError) -> CELValue {
        switch (name, v) {
        case ("duration", .duration), ("timestamp", .timestamp): return v
        case ("duration", .string(let s)):
            guard let d = GoDuration.parse(s) else { throw CELError.eval("invalid duration: \(s)") }
            let (secs, atto) = d.components
            let (ns, o) = secs.multipliedReportingOverflow(by: 1_000_000_000)
            let (total, o2) = ns.addingReportingOverflow(atto / 1_000_000_000)
            guard !o, !o2 else { throw CELError.eval("duration out of range: \(s)") }
            return .duration(total)
        case ("timestamp", .string(let s)):
            guard let date = Timestamp.parse(s) else { throw CELError.eval("invalid timestamp: \(s)") }
            let t = date.timeIntervalSince1970
            let whole = t.rounded(.down)
            guard abs(whole) < 9.2e9 else { throw CELError.eval("timestamp out of range: \(s)") }
            return .timestamp(Int64(whole) * 1_000_000_000 + Int64(((t - whole) * 1_000_000).rounded()) * 1_000)
        case ("timestamp", .int(let secs)):
            let (ns, o) = secs.multipliedReportingOverflow(by: 1_000_000_000)
            guard !o else { throw CELError.eval("timestamp out of range") }
            return .timestamp(ns)
        default:
            throw CELError.noOverload(name, [v])
        }
    }

    /// Protobuf's JSON form of a duration: seconds with up to nine fractional digits (`1.5s`).
    static func formatDuration(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let mag = ns.magnitude
        let secs = mag / 1_000_000_000, frac = mag % 1_000_000_000
        guard frac != 0 else { return "\(sign)\(secs)s" }
        var f = String(frac)
        f = String(repeating: "0", count: 9 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(sign)\(secs).\(f)s"
    }

    /// RFC 3339 in UTC, fractional seconds only when present.
    static func formatTimestamp(_ ns: Int64) -> String {
        var secs = ns / 1_000_000_000
        var frac = ns % 1_000_000_000
        if frac < 0 { secs -= 1; frac += 1_000_000_000 }
        let c = components(secs, TimeZone(identifier: "UTC"))
        func pad(_ v: Int?, _ width: Int) -> String {
            let text = String(v ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))"
        if frac != 0 {
            var f = String(frac)
            f = String(repeating: "0", count: 9 - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            text += "." + f
        }
        return text + "Z"
    }

    private static func components(_ secs: Int64, _ zone: TimeZone?) -> DateComponents {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone ?? TimeZone(secondsFromGMT: 0) ?? cal.timeZone
        return cal.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: Date(timeIntervalSince1970: TimeInterval(secs)))
    }

    static func accessor(_ name: String, _ v: CELValue, _ args: [CELValue]) throws(CELError) -> CELValue {
        switch v {
        case .duration(let ns) where args.isEmpty:
            switch name {
            case "getHours": return .int(ns / 3_600_000_000_000)
            case "getMinutes": return .int(ns / 60_000_000_000)
            case "getSeconds": return .int(ns / 1_000_000_000)
            case "getMilliseconds": return .int(ns / 1_000_000)
            default: throw CELError.noOverload(name, [v] + args)
            }
        case .timestamp(let ns):
            var zone = TimeZone(identifier: "UTC")
            if let arg = args.first {
                guard case .string(let id) = arg, let z = TimeZone(identifier: id) else {
                    throw CELError.eval("unknown time zone: \(CELFormat.text(arg))")
                }
                zone = z
            }
            var secs = ns / 1_000_000_000
            var frac = ns % 1_000_000_000
            if frac < 0 { secs -= 1; frac += 1_000_000_000 }
            let c = components(secs, zone)
            switch name {
            case "getFullYear": return .int(Int64(c.year ?? 0))
            case "getMonth": return .int(Int64((c.month ?? 1) - 1))
            case "getDayOfMonth": return .int(Int64((c.day ?? 1) - 1))
            case "getDate": return .int(Int64(c.day ?? 1))
            case "getDayOfWeek": return .int(Int64((c.weekday ?? 1) - 1))
            case "getHours": return .int(Int64(c.hour ?? 0))
            case "getMinutes": return .int(Int64(c.minute ?? 0))
            case "getSeconds": return .int(Int64(c.second ?? 0))
            case "getMilliseconds": return .int(frac / 1_000_000)
            case "getDayOfYear":
                var cal = Calendar(identifier: .gregorian)
                cal.timeZone = zone ?? cal.timeZone
                let day = cal.ordinality(of: .day, in: .year, for: Date(timeIntervalSince1970: TimeInterval(secs))) ?? 1
                return .int(Int64(day - 1))
            default: throw CELError.noOverload(name, [v] + args)
            }
        default:
            throw CELError.noOverload(name, [v] + args)
        }
    }
}
