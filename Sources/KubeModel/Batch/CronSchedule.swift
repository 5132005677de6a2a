import Foundation

/// A CronJob's `schedule`, as Kubernetes reads it with robfig/cron's standard parser: five
/// fields (minute, hour, day of month, month, day of week) or a macro (`@yearly`,
/// `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`, `@every <duration>`).
/// Times are matched on the wall clock of the schedule's time zone.
public struct CronSchedule: Sendable, Equatable {
    /// robfig's parse errors, with its wording (the API server shows them in validation).
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    public enum Kind: Sendable, Equatable {
        case fields(minute: CronField, hour: CronField, dayOfMonth: CronField, month: CronField, dayOfWeek: CronField)
        /// `@every`: a fixed interval from the previous time, whole seconds, at least 1 s.
        case every(seconds: Int64)
    }

    public let kind: Kind

    /// Parses a schedule; `TZ=`/`CRON_TZ=` prefixes are refused here, the CronJob's
    /// `timeZone` field says the zone.
    public init(parsing text: String) throws(ParseError) {
        let spec = text.trimmingCharacters(in: .whitespaces)
        guard !spec.isEmpty else { throw ParseError("empty spec string") }
        if spec.hasPrefix("TZ=") || spec.hasPrefix("CRON_TZ=") {
            throw ParseError("TZ and CRON_TZ prefixes are not supported, use the timeZone field")
        }
        if spec.hasPrefix("@") {
            kind = try Self.descriptor(spec)
            return
        }
        let fields = spec.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError("expected exactly 5 fields, found \(fields.count): [\(fields.joined(separator: " "))]")
        }
        kind = .fields(minute: try CronField.parse(fields[0], .minute), hour: try CronField.parse(fields[1], .hour),
                       dayOfMonth: try CronField.parse(fields[2], .dayOfMonth), month: try CronField.parse(fields[3], .month),
                       dayOfWeek: try CronField.parse(fields[4], .dayOfWeek))
    }

    private static func descriptor(_ spec: String) throws(ParseError) -> Kind {
        func fixed(_ m: String, _ h: String, _ dom: String, _ mon: String, _ dow: String) throws(ParseError) -> Kind {
            .fields(minute: try CronField.parse(m, .minute), hour: try CronField.parse(h, .hour),
                    dayOfMonth: try CronField.parse(dom, .dayOfMonth), month: try CronField.parse(mon, .month),
                    dayOfWeek: try CronField.parse(dow, .dayOfWeek))
        }
        switch spec {
        case "@yearly", "@annually": return try fixed("0", "0", "1", "1", "*")
        case "@monthly": return try fixed("0", "0", "1", "*", "*")
        case "@weekly": return try fixed("0", "0", "*", "*", "0")
        case "@daily", "@midnight": return try fixed("0", "0", "*", "*", "*")
        case "@hourly": return try fixed("0", "*", "*", "*", "*")
        default: break
        }
        let every = "@every "
        if spec.hasPrefix(every) {
            let text = String(spec.dropFirst(every.count))
            guard let d = GoDuration.parse(text) else { throw ParseError("failed to parse duration \(spec): time: invalid duration \"\(text)\"") }
            return .every(seconds: max(1, d.components.seconds))
        }
        throw ParseError("unrecognized descriptor: \(spec)")
    }
}
