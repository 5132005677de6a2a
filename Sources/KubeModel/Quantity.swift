/// A Kubernetes resource quantity (`500m`, `1.5Gi`, `1e3`, `2k`), as `resource.Quantity`.
/// The value is kept exactly as `mantissa × 10^scale` (precision below 1n is rounded up, as
/// Kubernetes does); `canonical` renders it the way the API server echoes it back.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// How the quantity is written back: the suffix family the input used.
    public enum Format: Sendable, Hashable {
        case decimalSI, binarySI, decimalExponent
    }

    /// value = mantissa × 10^scale, mantissa without trailing zeros (or 0 with scale 0).
    public private(set) var mantissa: Int64
    public private(set) var scale: Int32
    public var format: Format

    /// The regex Kubernetes quotes when a quantity does not parse.
    public static let syntaxError = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

    /// `mantissa × 10^scale`, normalized so equal values have equal fields.
    public init(mantissa: Int64, scale: Int32 = 0, format: Format = .decimalSI) {
        var m = mantissa
        var s = scale
        if m == 0 { s = 0 }
        while m != 0 && m % 10 == 0 { m /= 10; s += 1 }
        self.mantissa = m
        self.scale = s
        self.format = format
    }

    /// Parses Kubernetes quantity syntax; nil when invalid.
    public static func parse(_ s: String) -> Quantity? {
        let b = Array(s.utf8)
        guard !b.isEmpty else { return nil }
        var i = 0
        var negative = false
        if b[0] == 43 || b[0] == 45 { negative = b[0] == 45; i = 1 }
        // Number part: digits with at most one '.'.
        var digits: [UInt8] = []
        var fracDigits = 0
        var seenDot = false
        var anyDigit = false
        while i < b.count {
            let c = b[i]
            if c >= 48 && c <= 57 {
                anyDigit = true
                digits.append(c - 48)
                if seenDot { fracDigits += 1 }
            } else if c == 46 && !seenDot {
                seenDot = true
            } else { break }
            i += 1
        }
        guard anyDigit else { return nil }
        // Suffix.
        let suffix = String(decoding: b[i...], as: UTF8.self)
        var format = Format.decimalSI
        var exp10: Int32 = 0
        var pow1024 = 0
        switch suffix {
        case "": break
        case "n": exp10 = -9
        case "u": exp10 = -6
        case "m": exp10 = -3
        case "k": exp10 = 3
        case "M": exp10 = 6
        case "G": exp10 = 9
        case "T": exp10 = 12
        case "P": exp10 = 15
        case "E": exp10 = 18
        case "Ki": pow1024 = 1; format = .binarySI
        case "Mi": pow1024 = 2; format = .binarySI
        case "Gi": pow1024 = 3; format = .binarySI
        case "Ti": pow1024 = 4; format = .binarySI
        case "Pi": pow1024 = 5; format = .binarySI
        case "Ei": pow1024 = 6; format = .binarySI
        default:
            guard let f = suffix.utf8.first, f == 101 || f == 69 else { return nil }
            let rest = suffix.dropFirst()
            guard !rest.isEmpty, let e = Int32(rest), abs(e) < 1000 else { return nil }
            exp10 = e
            format = .decimalExponent
        }
        // Build mantissa from the digits, keeping at most 18 significant ones.
        while digits.count > 1 && digits.first == 0 { digits.removeFirst() }
        var mantissa: Int64 = 0
        var scale: Int32 = -Int32(fracDigits) + exp10
        var dropped = false
        for (k, d) in digits.enumerated() {
            if k < 18 {
                mantissa = mantissa * 10 + Int64(d)
            } else {
                scale += 1
                if d != 0 { dropped = true }
            }
        }
        if dropped { mantissa += 1 }  // round up, as Kubernetes does when it loses precision
        // Binary suffixes: multiply by 1024^n, keeping the decimal scale.
        for _ in 0..<pow1024 {
            var (r, o) = mantissa.multipliedReportingOverflow(by: 1024)
            while o {
                // Shift precision into the scale (rounding up) rather than overflow.
                mantissa = mantissa / 10 + (mantissa % 10 == 0 ? 0 : 1)
                scale += 1
                (r, o) = mantissa.multipliedReportingOverflow(by: 1024)
            }
            mantissa = r
        }
        // Precision is limited to nano units; round up anything smaller.
        if scale < -9 {
            var m = mantissa
            var rem = false
            while scale < -9 {
                if m % 10 != 0 { rem = true }
                m /= 10
                scale += 1
            }
            if rem { m += 1 }
            mantissa = m
        }
        if negative { mantissa = -mantissa }
        return Quantity(mantissa: mantissa, scale: scale, format: format)
    }

    /// `true` for quantities equal to zero.
    public var isZero: Bool { mantissa == 0 }

    /// The value in thousandths, rounded up (Kubernetes' `MilliValue`); saturates on overflow.
    public var milliValue: Int64 { scaledValue(-3) }

    /// The value in whole units, rounded up (Kubernetes' `Value`).
    public var value: Int64 { scaledValue(0) }

    /// The value expressed in units of 10^targetScale, rounded up; saturates on overflow.
    public func scaledValue(_ targetScale: Int32) -> Int64 {
        var m = mantissa
        var s = scale
        if s >= targetScale {
            while s > targetScale {
                let (r, o) = m.multipliedReportingOverflow(by: 10)
                if o { return m < 0 ? Int64.min : Int64.max }
                m = r
                s -= 1
            }
            return m
        }
        var rem = false
        while s < targetScale {
            if m % 10 != 0 { rem = true }
            m /= 10
            s += 1
        }
        if rem && mantissa > 0 { m += 1 }
        return m
    }

    /// Approximate value, for ratios and display.
    public var doubleValue: Double {
        var d = Double(mantissa)
        if scale > 0 { for _ in 0..<scale { d *= 10 } } else if scale < 0 { for _ in 0..<(-scale) { d /= 10 } }
        return d
    }

    /// The canonical form the API server writes back: `1536Mi`, `500m`, `1k`, `1e3`.
    public var canonical: String {
        if mantissa == 0 { return "0" }
        var fmt = format
        if fmt == .binarySI {
            // Small or fractional binary quantities are shown in decimal, as Kubernetes does.
            if (mantissa > -1024 && mantissa < 1024 && scale == 0) || scale < 0 || doubleValue.magnitude < 1024 {
                fmt = .decimalSI
            } else if let whole = exactInteger {
                var amount = whole
                var exp = 0
                while exp < 6 && amount % 1024 == 0 { amount /= 1024; exp += 1 }
                let suffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                return String(amount) + suffixes[exp]
            } else {
                fmt = .decimalSI
            }
        }
        // Decimal: make the exponent a multiple of 3 by growing the mantissa.
        var amount = mantissa
        var exp = scale
        let r = ((exp % 3) + 3) % 3
        if r != 0 {
            let (v, o) = amount.multipliedReportingOverflow(by: r == 1 ? 10 : 100)
            if !o { amount = v; exp -= Int32(r) }
        }
        let number = String(amount)
        if fmt == .decimalExponent || exp % 3 != 0 {
            return exp == 0 ? number : "\(number)e\(exp)"
        }
        switch exp {
        case -9: return number + "n"
        case -6: return number + "u"
        case -3: return number + "m"
        case 0: return number
        case 3: return number + "k"
        case 6: return number + "M"
        case 9: return number + "G"
        case 12: return number + "T"
        case 15: return number + "P"
        case 18: return number + "E"
        default: return "\(number)e\(exp)"
        }
    }

    public var description: String { canonical }

    /// The value as an integer when it is one and fits in Int64.
    var exactInteger: Int64? {
        guard scale >= 0 else { return nil }
        var m = mantissa
        for _ in 0..<scale {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = r
        }
        return m
    }

    // Equality and ordering are by value: `1000m == 1`.
    public static func == (a: Quantity, b: Quantity) -> Bool { a.mantissa == b.mantissa && a.scale == b.scale }
    public func hash(into h: inout Hasher) { h.combine(mantissa); h.combine(scale) }

    public static func < (a: Quantity, b: Quantity) -> Bool {
        if a.mantissa.signum() != b.mantissa.signum() { return a.mantissa.signum() < b.mantissa.signum() }
        // Align to the smaller scale when that does not overflow; else compare approximately.
        let s = min(a.scale, b.scale)
        func aligned(_ q: Quantity) -> Int64? {
            var m = q.mantissa
            for _ in 0..<(q.scale - s) {
                let (r, o) = m.multipliedReportingOverflow(by: 10)
                if o { return nil }
                m = r
            }
            return m
        }
        if let x = aligned(a), let y = aligned(b) { return x < y }
        return a.doubleValue < b.doubleValue
    }
}
