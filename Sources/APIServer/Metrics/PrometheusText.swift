import Foundation

/// A parsed Prometheus text exposition (format 0.0.4): samples with their labels and
/// optional millisecond timestamps, and the declared type of each metric family.
struct PrometheusText: Sendable, Equatable {
    struct Sample: Sendable, Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
        /// Milliseconds since the epoch, when the sample carries one.
        var timestampMs: Int64?
    }

    var samples: [Sample] = []
    /// `# TYPE name counter|gauge|histogram|summary|untyped`.
    var types: [String: String] = [:]

    /// Parses `text`; lines that are not valid samples are skipped (a scrape keeps what it can).
    static func parse(_ text: String) -> PrometheusText {
        var out = PrometheusText()
        for raw in text.split(whereSeparator: \.isNewline) {
            // Trimmed without Foundation: a scrape of thousands of nodes parses every line.
            let line = trimmed(raw)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                if fields.count >= 4, fields[1] == "TYPE" { out.types[String(fields[2])] = String(fields[3]) }
                continue
            }
            if let sample = sample(line) { out.samples.append(sample) }
        }
        return out
    }

    /// `name{label="value",...} value [timestamp]`.
    static func sample(_ line: Substring) -> Sample? {
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " || $0 == "\t" } ?? line.endIndex
        let name = String(line[..<nameEnd])
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }) else { return nil }
        var rest = line[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            guard let (parsed, after) = labelSet(rest.dropFirst()) else { return nil }
            labels = parsed
            rest = after
        }
        let fields = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = fields.first, let value = number(first) else { return nil }
        var timestamp: Int64?
        if fields.count > 1 {
            guard let ts = Int64(fields[1]) else { return nil }
            timestamp = ts
        }
        return Sample(name: name, labels: labels, value: value, timestampMs: timestamp)
    }

    /// Labels up to the closing brace, and what follows it.
    static func labelSet(_ text: Substring) -> ([String: String], Substring)? {
        var labels: [String: String] = [:]
        var rest = text
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            if rest.first == "}" { return (labels, rest.dropFirst()) }
            guard let eq = rest.firstIndex(of: "=") else { return nil }
            let key = String(trimmed(rest[..<eq]))
            rest = rest[rest.index(after: eq)...].drop { $0 == " " }
            guard rest.first == "\"", !key.isEmpty else { return nil }
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            var closed = false
            while let c = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    value.append(c == "n" ? "\n" : c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    closed = true
                    break
                } else {
                    value.append(c)
                }
            }
            guard closed else { return nil }
            labels[key] = value
        }
    }

    static func trimmed(_ s: Substring) -> Substring {
        let blank = { (c: Character) in c == " " || c == "\t" }
        guard let first = s.firstIndex(where: { !blank($0) }), let last = s.lastIndex(where: { !blank($0) }) else { return "" }
        return s[first...last]
    }

    static func number(_ s: Substring) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(s)
        }
    }
}
