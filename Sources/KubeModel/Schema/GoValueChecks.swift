/// Checks Go's decoder applies to special string types, with its error wording: clients such as
/// kubectl show these messages verbatim in the 400 response.
enum GoValueChecks {
    static let quantityFormatError =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    static let quantitySuffixError = "unable to parse quantity's suffix"

    /// Why a JSON value is not a `resource.Quantity`, or nil if it is one. Numbers are quantities.
    static func quantityError(_ value: JSONValue) -> String? {
        let text: String
        switch value {
        case .null, .int, .double: return nil
        case .string(let s): text = s
        case .bool(let b): text = b ? "true" : "false"
        case .array, .object: return quantityFormatError
        }
        return quantityStringError(text.trimmingASCIIWhitespace())
    }

    /// Mirrors Kubernetes' `ParseQuantity`: sign, digits with at most one dot, then a suffix
    /// (binary `Ki`..`Ei`, decimal `n`..`E`, or an `e`/`E` exponent).
    static func quantityStringError(_ s: String) -> String? {
        let b = Array(s.utf8)
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        var dots = 0
        while i < b.count, isDigit(b[i]) || b[i] == UInt8(ascii: ".") {
            if b[i] == UInt8(ascii: ".") { dots += 1 } else { digits += 1 }
            i += 1
        }
        guard digits > 0, dots <= 1 else { return quantityFormatError }
        let suffixStart = i
        let letters = Set("eEinumkKMGTP".utf8)
        while i < b.count, letters.contains(b[i]) { i += 1 }
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count, isDigit(b[i]) { i += 1 }
        guard i == b.count else { return quantityFormatError }
        let suffix = String(decoding: b[suffixStart...], as: UTF8.self)
        let known: Set<String> = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"]
        if known.contains(suffix) { return nil }
        // Decimal exponent: e.g. `1e3`, `5E-2`.
        var rest = Substring(suffix)
        guard let first = rest.first, first == "e" || first == "E" else { return quantitySuffixError }
        rest = rest.dropFirst()
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        return !rest.isEmpty && rest.utf8.allSatisfy(isDigit) ? nil : quantitySuffixError
    }

    /// Offset Go's `base64.StdEncoding` reports as `illegal base64 data at input byte N`,
    /// or nil when `s` decodes. Line breaks are skipped, padding is required.
    static func base64ErrorOffset(_ s: String) -> Int? {
        let src = Array(s.utf8)
        func isB64(_ c: UInt8) -> Bool {
            (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/")
        }
        func isNL(_ c: UInt8) -> Bool { c == 10 || c == 13 }
        var si = 0
        while true {
            // One quantum of four symbols.
            var j = 0
            while j < 4 {
                if si == src.count {
                    if j == 0 { return nil }
                    return si - j
                }
                let c = src[si]
                si += 1
                if isB64(c) { j += 1; continue }
                if isNL(c) { continue }
                if c != UInt8(ascii: "=") || j < 2 { return si - 1 }
                if j == 2 {
                    while si < src.count, isNL(src[si]) { si += 1 }
                    if si == src.count { return src.count }
                    if src[si] != UInt8(ascii: "=") { return si - 1 }
                    si += 1
                }
                while si < src.count, isNL(src[si]) { si += 1 }
                return si < src.count ? si : nil
            }
        }
    }

    /// Go's `time.Parse(time.RFC3339, s)` error for `metav1.Time`, or nil when `s` parses.
    static func timeError(_ s: String) -> String? {
        let layout = "2006-01-02T15:04:05Z07:00"
        let b = Array(s.utf8)
        var i = 0
        func rest() -> String { String(decoding: b[min(i, b.count)...], as: UTF8.self) }
        func fail(_ elem: String) -> String {
            "parsing time \"\(s)\" as \"\(layout)\": cannot parse \"\(rest())\" as \"\(elem)\""
        }
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count, b[i..<(i + n)].allSatisfy(isDigit) else { return nil }
            defer { i += n }
            return b[i..<(i + n)].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        func lit(_ c: Character) -> Bool {
            guard i < b.count, b[i] == c.asciiValue else { return false }
            i += 1
            return true
        }
        guard let year = num(4) else { return fail("2006") }
        guard lit("-") else { return fail("-") }
        guard let month = num(2) else { return fail("01") }
        guard lit("-") else { return fail("-") }
        guard let day = num(2) else { return fail("02") }
        guard lit("T") else { return fail("T") }
        guard let hour = num(2) else { return fail("15") }
        guard lit(":") else { return fail(":") }
        guard let minute = num(2) else { return fail("04") }
        guard lit(":") else { return fail(":") }
        guard let second = num(2) else { return fail("05") }
        if i + 1 < b.count, b[i] == UInt8(ascii: "."), isDigit(b[i + 1]) {
            i += 1
            while i < b.count, isDigit(b[i]) { i += 1 }
        }
        if !lit("Z") {
            let zoneStart = i
            guard i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") else { return fail("Z07:00") }
            i += 1
            guard num(2) != nil, lit(":"), num(2) != nil else {
                i = zoneStart
                return fail("Z07:00")
            }
        }
        if i < b.count { return "parsing time \"\(s)\": extra text: \"\(rest())\"" }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let range: String? =
            !(1...12).contains(month) ? "month" : !(1...days[month - 1]).contains(day) ? "day"
            : hour > 23 ? "hour" : minute > 59 ? "minute" : second > 59 ? "second" : nil
        return range.map { "parsing time \"\(s)\": \($0) out of range" }
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let ws: Set<UInt8> = [32, 9, 10, 13, 11, 12]
        let u = Array(utf8)
        guard let start = u.firstIndex(where: { !ws.contains($0) }), let end = u.lastIndex(where: { !ws.contains($0) })
        else { return "" }
        return String(decoding: u[start...end], as: UTF8.self)
    }
}
