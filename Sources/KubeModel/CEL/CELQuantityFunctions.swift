/// Kubernetes' quantity library: `quantity("1Gi")`, `isQuantity()`, comparisons, `asInteger`,
/// `asApproximateFloat`, `sign`, `isInteger`, `add`/`sub` of quantities or integers.
enum CELQuantityFunctions {
    static func construct(_ name: String, _ v: CELValue) throws(CELError) -> CELValue {
        guard case .string(let s) = v else { throw CELError.noOverload(name, [v]) }
        let q = Quantity.parse(s)
        if name == "isQuantity" { return .bool(q != nil) }
        guard let q else { throw CELError.eval("quantities must match the regular expression") }
        return .quantity(q)
    }

    static func call(_ name: String, _ v: CELValue, _ args: [CELValue]) throws(CELError) -> CELValue {
        guard case .quantity(let q) = v else { throw CELError.noOverload(name, [v] + args) }
        func other() throws(CELError) -> Quantity {
            switch args.first {
            case .quantity(let o)?: return o
            case .int(let i)?: return Quantity(mantissa: i)
            default: throw CELError.noOverload(name, [v] + args)
            }
        }
        switch (name, args.count) {
        case ("isGreaterThan", 1): return .bool(q > (try other()))
        case ("isLessThan", 1): return .bool(q < (try other()))
        case ("compareTo", 1): let o = try other(); return .int(q < o ? -1 : (q == o ? 0 : 1))
        case ("sign", 0): return .int(q.mantissa < 0 ? -1 : (q.mantissa == 0 ? 0 : 1))
        case ("isInteger", 0): return .bool(q.scale >= 0 && q.doubleValue.magnitude < 9.2e18)
        case ("asInteger", 0):
            guard q.scale >= 0, q.doubleValue.magnitude < 9.2e18 else {
                throw CELError.eval("cannot convert value to integer")
            }
            return .int(q.value)
        case ("asApproximateFloat", 0): return .double(q.doubleValue)
        case ("add", 1), ("sub", 1):
            let o = try other()
            // Exact when both fit in milli-units, which covers resource quantities in practice.
            let a = q.milliValue, b = o.milliValue
            let (r, overflow) = name == "add" ? a.addingReportingOverflow(b) : a.subtractingReportingOverflow(b)
            guard !overflow else { throw CELError.eval("integer overflow") }
            return .quantity(Quantity(mantissa: r, scale: -3, format: q.format))
        default:
            throw CELError.noOverload(name, [v] + args)
        }
    }
}
