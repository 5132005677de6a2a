/// One field of a cron line (minutes, hours, day of month, month, day of week) as a bit set,
/// parsed as robfig/cron's standard parser reads it: `*`, `?`, `a`, `a-b`, `*/n`, `a-b/n`,
/// `a/n` (from a to the field's maximum), comma lists and names (`jan`, `mon`).
public struct CronField: Sendable, Equatable {
    /// Bit `i` set when value `i` matches.
    public var bits: UInt64
    /// Whether the field was written as `*` or `?` (without a step above 1): robfig's "star
    /// bit", which decides how day of month and day of week combine.
    public var isStar: Bool

    public func matches(_ value: Int) -> Bool { value >= 0 && value < 64 && bits & (1 << UInt64(value)) != 0 }

    /// The bounds and names of each field.
    public struct Bounds: Sendable {
        let min: Int
        let max: Int
        let names: [String: Int]

        static let minute = Bounds(min: 0, max: 59, names: [:])
        static let hour = Bounds(min: 0, max: 23, names: [:])
        static let dayOfMonth = Bounds(min: 1, max: 31, names: [:])
        static let month = Bounds(min: 1, max: 12, names: [
            "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
            "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
        ])
        static let dayOfWeek = Bounds(min: 0, max: 6, names: [
            "sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
        ])
    }

    /// Parses a comma list of ranges; errors read as robfig's.
    static func parse(_ text: String, _ bounds: Bounds) throws(CronSchedule.ParseError) -> CronField {
        var field = CronField(bits: 0, isStar: false)
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let range = try parseRange(String(part), bounds)
            field.bits |= range.bits
            field.isStar = field.isStar || range.isStar
        }
        return field
    }

    private static func parseRange(_ expr: String, _ b: Bounds) throws(CronSchedule.ParseError) -> CronField {
        let rangeAndStep = expr.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let lowAndHigh = rangeAndStep[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let single = lowAndHigh.count == 1
        var start: Int
        var end: Int
        var star = false
        if lowAndHigh[0] == "*" || lowAndHigh[0] == "?" {
            start = b.min
            end = b.max
            star = true
        } else {
            start = try value(lowAndHigh[0], b)
            switch lowAndHigh.count {
            case 1: end = start
            case 2: end = try value(lowAndHigh[1], b)
            default: throw .init("too many hyphens: \(expr)")
            }
        }
        var step = 1
        switch rangeAndStep.count {
        case 1: break
        case 2:
            step = try number(rangeAndStep[1])
            // "N/step" means "N-max/step".
            if single { end = b.max }
            if step > 1 { star = false }
        default: throw .init("too many slashes: \(expr)")
        }
        if start < b.min { throw .init("beginning of range (\(start)) below minimum (\(b.min)): \(expr)") }
        if end > b.max { throw .init("end of range (\(end)) above maximum (\(b.max)): \(expr)") }
        if start > end { throw .init("beginning of range (\(start)) beyond end of range (\(end)): \(expr)") }
        if step == 0 { throw .init("step of range should be a positive number: \(expr)") }
        var bits: UInt64 = 0
        var i = start
        while i <= end {
            bits |= 1 << UInt64(i)
            i += step
        }
        return CronField(bits: bits, isStar: star)
    }

    private static func value(_ text: String, _ b: Bounds) throws(CronSchedule.ParseError) -> Int {
        if let named = b.names[text.lowercased()] { return named }
        return try number(text)
    }

    private static func number(_ text: String) throws(CronSchedule.ParseError) -> Int {
        guard let n = Int(text) else { throw .init("failed to parse int from \(text): strconv.Atoi: parsing \"\(text)\": invalid syntax") }
        guard n >= 0 else { throw .init("negative number (\(n)) not allowed: \(text)") }
        return n
    }
}
