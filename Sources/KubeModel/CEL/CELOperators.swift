/// CEL's operators on values: selection, indexing, arithmetic with overflow errors,
/// heterogeneous numeric equality and ordering.
enum CELOperators {
    static func select(_ v: CELValue, _ field: String) throws(CELError) -> CELValue {
        guard case .map(let m) = v else { throw CELError.eval("type '\(v.typeName)' does not support field selection") }
        guard let value = m[field] else { throw CELError.eval("no such key: \(field)") }
        return value
    }

    static func index(_ v: CELValue, _ i: CELValue) throws(CELError) -> CELValue {
        switch v {
        case .list(let l):
            let n: Int64
            switch i {
            case .int(let x): n = x
            case .uint(let u) where u <= UInt64(Int64.max): n = Int64(u)
            case .double(let d) where d.rounded() == d && abs(d) < 9e18: n = Int64(d)
            default: throw CELError.noOverload("_[_]", [v, i])
            }
            guard n >= 0, n < l.count else { throw CELError.eval("index out of bounds: \(n)") }
            return l[Int(n)]
        case .map(let m):
            guard let value = m[i] else { throw CELError.eval("no such key: \(CELFormat.text(i))") }
            return value
        default:
            throw CELError.noOverload("_[_]", [v, i])
        }
    }

    static func unary(_ op: CELUnaryOp, _ v: CELValue) throws(CELError) -> CELValue {
        switch (op, v) {
        case (.not, .bool(let b)): return .bool(!b)
        case (.negate, .int(let i)):
            guard i != Int64.min else { throw CELError.eval("integer overflow") }
            return .int(-i)
        case (.negate, .double(let d)): return .double(-d)
        case (.negate, .duration(let d)):
            guard d != Int64.min else { throw CELError.eval("integer overflow") }
            return .duration(-d)
        default: throw CELError.noOverload(op == .not ? "!_" : "-_", [v])
        }
    }

    static func binary(_ op: CELBinaryOp, _ l: CELValue, _ r: CELValue) throws(CELError) -> CELValue {
        switch op {
        case .equal: return .bool(equal(l, r))
        case .notEqual: return .bool(!equal(l, r))
        case .less, .lessEqual, .greater, .greaterEqual:
            guard let c = compare(l, r) else { throw CELError.noOverload("_\(op.rawValue)_", [l, r]) }
            switch op {
            case .less: return .bool(c < 0)
            case .lessEqual: return .bool(c <= 0)
            case .greater: return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case .in:
            switch r {
            case .list(let items): return .bool(items.contains { equal($0, l) })
            case .map(let m): return .bool(m[l] != nil)
            default: throw CELError.noOverload("@in", [l, r])
            }
        case .add, .subtract, .multiply, .divide, .modulo:
            return try arithmetic(op, l, r)
        }
    }

    // MARK: arithmetic

    private static func overflow() -> CELError { CELError.eval("integer overflow") }

    private static func arithmetic(_ op: CELBinaryOp, _ l: CELValue, _ r: CELValue) throws(CELError) -> CELValue {
        switch (l, r) {
        case (.int(let a), .int(let b)):
            let (v, o): (Int64, Bool)
            switch op {
            case .add: (v, o) = a.addingReportingOverflow(b)
            case .subtract: (v, o) = a.subtractingReportingOverflow(b)
            case .multiply: (v, o) = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { throw CELError.eval("division by zero") }
                (v, o) = a.dividedReportingOverflow(by: b)
            default:
                guard b != 0 else { throw CELError.eval("modulus by zero") }
                (v, o) = a.remainderReportingOverflow(dividingBy: b)
            }
            if o { throw overflow() }
            return .int(v)
        case (.uint(let a), .uint(let b)):
            let (v, o): (UInt64, Bool)
            switch op {
            case .add: (v, o) = a.addingReportingOverflow(b)
            case .subtract: (v, o) = a.subtractingReportingOverflow(b)
            case .multiply: (v, o) = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { throw CELError.eval("division by zero") }
                (v, o) = (a / b, false)
            default:
                guard b != 0 else { throw CELError.eval("modulus by zero") }
                (v, o) = (a % b, false)
            }
            if o { throw overflow() }
            return .uint(v)
        case (.double(let a), .double(let b)):
            switch op {
            case .add: return .double(a + b)
            case .subtract: return .double(a - b)
            case .multiply: return .double(a * b)
            case .divide: return .double(a / b)
            default: throw CELError.noOverload("_%_", [l, r])
            }
        case (.string(let a), .string(let b)) where op == .add: return .string(a + b)
        case (.bytes(let a), .bytes(let b)) where op == .add: return .bytes(a + b)
        case (.list(let a), .list(let b)) where op == .add: return .list(a + b)
        case (.duration(let a), .duration(let b)) where op == .add || op == .subtract:
            let (v, o) = op == .add ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
            if o { throw overflow() }
            return .duration(v)
        case (.timestamp(let a), .duration(let b)) where op == .add || op == .subtract:
            let (v, o) = op == .add ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
            if o { throw overflow() }
            return .timestamp(v)
        case (.duration(let a), .timestamp(let b)) where op == .add:
            let (v, o) = a.addingReportingOverflow(b)
            if o { throw overflow() }
            return .timestamp(v)
        case (.timestamp(let a), .timestamp(let b)) where op == .subtract:
            let (v, o) = a.subtractingReportingOverflow(b)
            if o { throw overflow() }
            return .duration(v)
        default:
            throw CELError.noOverload("_\(op.rawValue)_", [l, r])
        }
    }

    // MARK: equality and ordering

    /// CEL equality: numbers compare across int, uint and double; other types never equal each other.
    static func equal(_ l: CELValue, _ r: CELValue) -> Bool {
        switch (l, r) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.duration(let a), .duration(let b)), (.timestamp(let a), .timestamp(let b)): return a == b
        case (.type(let a), .type(let b)): return a == b
        case (.quantity(let a), .quantity(let b)): return a == b
        case (.optional(let a), .optional(let b)):
            switch (a, b) {
            case (nil, nil): return true
            case (let x?, let y?): return equal(x, y)
            default: return false
            }
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            return a.entries.allSatisfy { e in b[e.key].map { equal(e.value, $0) } ?? false }
        default:
            return compareNumbers(l, r) == 0
        }
    }

    /// -1, 0 or 1; nil when the values are not ordered against each other.
    static func compare(_ l: CELValue, _ r: CELValue) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (l, r) {
        case (.string(let a), .string(let b)):
            // CEL orders strings by code point, not by Swift's grapheme-aware comparison.
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : (a == b ? 0 : 1)
        case (.bytes(let a), .bytes(let b)): return a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.duration(let a), .duration(let b)), (.timestamp(let a), .timestamp(let b)): return sign(a, b)
        default: return compareNumbers(l, r)
        }
    }

    private static func compareNumbers(_ l: CELValue, _ r: CELValue) -> Int? {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a == b ? 0 : 1) }
        switch (l, r) {
        case (.int(let a), .int(let b)): return sign(a, b)
        case (.uint(let a), .uint(let b)): return sign(a, b)
        case (.double(let a), .double(let b)): return a.isNaN || b.isNaN ? nil : sign(a, b)
        case (.int(let a), .uint(let b)): return a < 0 ? -1 : sign(UInt64(a), b)
        case (.uint(let a), .int(let b)): return b < 0 ? 1 : sign(a, UInt64(b))
        case (.int(let a), .double(let b)): return compareIntDouble(a, b)
        case (.double(let a), .int(let b)): return compareIntDouble(b, a).map { -$0 }
        case (.uint(let a), .double(let b)): return compareUIntDouble(a, b)
        case (.double(let a), .uint(let b)): return compareUIntDouble(b, a).map { -$0 }
        default: return nil
        }
    }

    private static func compareIntDouble(_ a: Int64, _ b: Double) -> Int? {
        if b.isNaN { return nil }
        if b >= 9.223372036854775807e18 { return -1 }
        if b < -9.223372036854775808e18 { return 1 }
        let whole = Int64(b.rounded(.towardZero))
        if a != whole { return a < whole ? -1 : 1 }
        let frac = b - b.rounded(.towardZero)
        return frac > 0 ? -1 : (frac < 0 ? 1 : 0)
    }

    private static func compareUIntDouble(_ a: UInt64, _ b: Double) -> Int? {
        if b.isNaN { return nil }
        if b < 0 { return 1 }
        if b >= 1.8446744073709552e19 { return -1 }
        let whole = UInt64(b.rounded(.towardZero))
        if a != whole { return a < whole ? -1 : 1 }
        return b > b.rounded(.towardZero) ? -1 : 0
    }
}
