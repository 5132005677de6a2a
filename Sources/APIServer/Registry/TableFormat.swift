import Foundation
import KubeModel

/// Helpers that format table cells the way kubectl's printers do.
public enum TableFormat {
    /// Kubernetes' short human duration: `45s`, `3m20s`, `5h`, `12d`, `2y100d`.
    public static func humanDuration(_ seconds: Double) -> String {
        let s = Int(max(0, seconds))
        if s < 120 { return "\(s)s" }
        let m = s / 60
        if m < 10 { let r = s % 60; return r == 0 ? "\(m)m" : "\(m)m\(r)s" }
        if m < 180 { return "\(m)m" }
        let h = s / 3600
        if h < 8 { let rm = (s % 3600) / 60; return rm == 0 ? "\(h)h" : "\(h)h\(rm)m" }
        if h < 48 { return "\(h)h" }
        if h < 24 * 8 { let rh = h % 24; return rh == 0 ? "\(h / 24)d" : "\(h / 24)d\(rh)h" }
        if h < 24 * 365 * 2 { return "\(h / 24)d" }
        if h < 24 * 365 * 8 { let dy = (h / 24) % 365; return dy == 0 ? "\(h / 24 / 365)y" : "\(h / 24 / 365)y\(dy)d" }
        return "\(h / 24 / 365)y"
    }

    /// Age column text from `metadata.creationTimestamp`; `<unknown>` when missing.
    public static func age(of object: JSONValue, now: Date) -> String {
        guard let ts = object[path: ["metadata", "creationTimestamp"]]?.stringValue,
              let date = Timestamp.parse(ts) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(date))
    }
}
