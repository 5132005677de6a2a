import Foundation
import KubeModel

/// Builds `describe` text the way kubectl's prefix writer does: `write(level, ...)` indents by
/// two spaces per level, tabs separate aligned cells, and `flush()` ends an alignment section
/// (kubectl flushes before the Events table).
struct DescribeWriter {
    private var sections: [String] = [""]

    mutating func write(_ level: Int, _ text: String) {
        sections[sections.count - 1] += String(repeating: "  ", count: level) + text
    }

    mutating func flush() { sections.append("") }

    var text: String {
        let tabs = ElasticTabstops(minWidth: 0, padding: 2)
        return sections.map(tabs.format).joined()
    }

    /// The text with its tabs as written, for places where kubectl prints the prefix writer's
    /// output without a tabwriter (`rollout history --revision`).
    var unaligned: String { sections.joined() }

    // MARK: - kubectl's shared pieces

    /// `Labels:\tk=v` with later keys on their own lines; `<none>` when empty.
    mutating func labels(_ title: String, _ labels: JSONValue?) {
        write(0, "\(title):\t")
        let o = labels?.objectValue ?? [:]
        if o.isEmpty { write(0, "<none>\n"); return }
        for (i, key) in o.keys.sorted().enumerated() {
            if i != 0 { write(0, "\t") }
            write(0, "\(key)=\(o[key]?.stringValue ?? "")\n")
        }
    }

    static let maxAnnotationLength = 140

    /// Annotations without kubectl's own last-applied copy; long or multi-line values wrapped.
    mutating func annotations(_ title: String, _ annotations: JSONValue?) {
        write(0, "\(title):\t")
        let o = annotations?.objectValue ?? [:]
        let keys = o.keys.filter { $0 != "kubectl.kubernetes.io/last-applied-configuration" }.sorted()
        if keys.isEmpty { write(0, "<none>\n"); return }
        for (i, key) in keys.enumerated() {
            if i != 0 { write(0, "\t") }
            var value = o[key]?.stringValue ?? ""
            if value.hasSuffix("\n") { value.removeLast() }
            if value.utf8.count + key.utf8.count + 2 > Self.maxAnnotationLength || value.contains("\n") {
                write(0, "\(key):\n")
                for line in value.split(separator: "\n", omittingEmptySubsequences: false) {
                    let limit = Self.maxAnnotationLength - 2
                    let shown = line.utf8.count > limit ? String(decoding: Array(line.utf8.prefix(limit)), as: UTF8.self) + "..." : String(line)
                    write(0, "\t  \(shown)\n")
                }
            } else {
                write(0, "\(key): \(value)\n")
            }
        }
    }

    /// Tolerations as `key=value:Effect op=Exists for 300s`, sorted by key.
    mutating func tolerations(_ title: String, _ list: JSONValue?) {
        write(0, "\(title):\t")
        let items = (list?.arrayValue ?? []).enumerated().sorted {
            let a = $0.element["key"]?.stringValue ?? "", b = $1.element["key"]?.stringValue ?? ""
            return a == b ? $0.offset < $1.offset : a < b
        }.map(\.element)
        if items.isEmpty { write(0, "<none>\n"); return }
        for (i, t) in items.enumerated() {
            if i != 0 { write(0, "\t") }
            let key = t["key"]?.stringValue ?? "", value = t["value"]?.stringValue ?? "", effect = t["effect"]?.stringValue ?? ""
            var s = key
            if !value.isEmpty { s += "=" + value }
            if !effect.isEmpty { s += ":" + effect }
            if t["operator"]?.stringValue == "Exists" && value.isEmpty {
                s += key.isEmpty && effect.isEmpty ? "op=Exists" : " op=Exists"
            }
            if let secs = t["tolerationSeconds"]?.intValue { s += " for \(secs)s" }
            write(0, s + "\n")
        }
    }

    /// The Events table (or `Events:\t<none>`), oldest last-seen first.
    mutating func events(_ events: [JSONValue]) {
        if events.isEmpty { write(0, "Events:\t<none>\n"); return }
        flush()
        let sorted = events.enumerated().sorted {
            let a = $0.element["lastTimestamp"]?.stringValue ?? "", b = $1.element["lastTimestamp"]?.stringValue ?? ""
            return a == b ? $0.offset < $1.offset : a < b
        }.map(\.element)
        write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
        write(1, "----\t------\t----\t----\t-------\n")
        for e in sorted {
            let eventTime = e["eventTime"]?.stringValue
            let first = eventTime.map { HumanDuration.since($0) } ?? HumanDuration.since(e["firstTimestamp"]?.stringValue)
            var interval = first
            if let series = e["series"], series.objectValue != nil {
                interval = "\(HumanDuration.since(series["lastObservedTime"]?.stringValue)) (x\(series["count"]?.intValue ?? 0) over \(first))"
            } else if let count = e["count"]?.intValue, count > 1 {
                interval = "\(HumanDuration.since(e["lastTimestamp"]?.stringValue)) (x\(count) over \(first))"
            }
            var source = e["source"]?["component"]?.stringValue ?? ""
            if source.isEmpty { source = e["reportingComponent"]?.stringValue ?? "" }
            let message = (e["message"]?.stringValue ?? "").trimmingCharacters(in: " \n\t")
            write(1, "\(e["type"]?.stringValue ?? "")\t\(e["reason"]?.stringValue ?? "")\t\(interval)\t\(source)\t\(message)\n")
        }
    }

    /// `Mon, 02 Jan 2006 15:04:05 -0700` in local time, Go's RFC1123Z.
    static func rfc1123z(_ timestamp: String?) -> String {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return "" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone.current
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: date)
    }
}
