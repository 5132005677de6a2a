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
    /// Works on the UTF-8 bytes: a round over thousands of kubelets parses every line, and
    /// walking Characters made parsing nearly all of the scraper's own work.
    static func parse(_ text: String) -> PrometheusText {
        var text = text
        return text.withUTF8 { parse(Bytes(bytes: $0)) }
    }

    private static func parse(_ text: Bytes) -> PrometheusText {
        var out = PrometheusText()
        var lineStart = 0
        while lineStart < text.count {
            var lineEnd = lineStart
            while lineEnd < text.count, !Bytes.isNewline(text[lineEnd]) { lineEnd += 1 }
            let line = text.trimmed(lineStart..<lineEnd)
            lineStart = lineEnd + 1
            guard !line.isEmpty else { continue }
            if text[line.lowerBound] == UInt8(ascii: "#") {
                let fields = text.fields(line)
                if fields.count >= 4, text.string(fields[1]) == "TYPE" { out.types[text.string(fields[2])] = text.string(fields[3]) }
                continue
            }
            if let sample = sample(text, line) { out.samples.append(sample) }
        }
        return out
    }

    /// `name{label="value",...} value [timestamp]`.
    private static func sample(_ text: Bytes, _ line: Range<Int>) -> Sample? {
        var i = line.lowerBound
        while i < line.upperBound, Bytes.isNameByte(text[i]) { i += 1 }
        guard i > line.lowerBound else { return nil }
        let name = text.string(line.lowerBound..<i)
        var labels: [String: String] = [:]
        if i < line.upperBound, text[i] == UInt8(ascii: "{") {
            guard let (parsed, after) = labelSet(text, from: i + 1, to: line.upperBound) else { return nil }
            labels = parsed
            i = after
        } else if i < line.upperBound, !Bytes.isBlank(text[i]) {
            return nil
        }
        let fields = text.fields(i..<line.upperBound)
        guard let first = fields.first, let value = number(text.string(first)) else { return nil }
        var timestamp: Int64?
        if fields.count > 1 {
            guard let ts = Int64(text.string(fields[1])) else { return nil }
            timestamp = ts
        }
        return Sample(name: name, labels: labels, value: value, timestampMs: timestamp)
    }

    /// Labels up to the closing brace, and the index after it.
    private static func labelSet(_ text: Bytes, from start: Int, to end: Int) -> ([String: String], Int)? {
        var labels: [String: String] = [:]
        var i = start
        while true {
            while i < end, text[i] == UInt8(ascii: " ") || text[i] == UInt8(ascii: ",") { i += 1 }
            guard i < end else { return nil }
            if text[i] == UInt8(ascii: "}") { return (labels, i + 1) }
            var eq = i
            while eq < end, text[eq] != UInt8(ascii: "=") { eq += 1 }
            guard eq < end else { return nil }
            let key = text.string(text.trimmed(i..<eq))
            i = eq + 1
            while i < end, text[i] == UInt8(ascii: " ") { i += 1 }
            guard i < end, text[i] == UInt8(ascii: "\""), !key.isEmpty else { return nil }
            i += 1
            var value: [UInt8] = []
            var escaped = false
            var closed = false
            while i < end {
                let c = text[i]
                i += 1
                if escaped {
                    value.append(c == UInt8(ascii: "n") ? UInt8(ascii: "\n") : c)
                    escaped = false
                } else if c == UInt8(ascii: "\\") {
                    escaped = true
                } else if c == UInt8(ascii: "\"") {
                    closed = true
                    break
                } else {
                    value.append(c)
                }
            }
            guard closed else { return nil }
            labels[key] = String(decoding: value, as: UTF8.self)
        }
    }

    static func number(_ s: String) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return Double(s)
        }
    }

    /// The text's bytes, read in place while `parse` runs.
    private struct Bytes {
        let bytes: UnsafeBufferPointer<UInt8>

        var count: Int { bytes.count }
        subscript(i: Int) -> UInt8 { bytes[i] }

        static func isNewline(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D || b == 0x0B || b == 0x0C }
        static func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        /// Metric name characters: `[a-zA-Z0-9_:]`.
        static func isNameByte(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
        }

        func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }

        func trimmed(_ range: Range<Int>) -> Range<Int> {
            var lower = range.lowerBound, upper = range.upperBound
            while lower < upper, Self.isBlank(bytes[lower]) { lower += 1 }
            while upper > lower, Self.isBlank(bytes[upper - 1]) { upper -= 1 }
            return lower..<upper
        }

        /// The blank-separated fields of `range`.
        func fields(_ range: Range<Int>) -> [Range<Int>] {
            var out: [Range<Int>] = []
            var i = range.lowerBound
            while i < range.upperBound {
                while i < range.upperBound, Self.isBlank(bytes[i]) { i += 1 }
                let start = i
                while i < range.upperBound, !Self.isBlank(bytes[i]) { i += 1 }
                if i > start { out.append(start..<i) }
            }
            return out
        }
    }
}
