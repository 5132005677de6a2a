/// List functions: `size`, `join` (strings extension) and Kubernetes' list library
/// (`isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`).
enum CELListFunctions {
    static func call(_ name: String, _ list: [CELValue], _ args: [CELValue]) throws(CELError) -> CELValue {
        func fail() -> CELError { CELError.noOverload(name, [.list(list)] + args) }
        switch (name, args.count) {
        case ("size", 0):
            return .int(Int64(list.count))
        case ("join", 0), ("join", 1):
            var sep = ""
            if args.count == 1 {
                guard case .string(let s) = args[0] else { throw fail() }
                sep = s
            }
            var parts: [String] = []
            for v in list {
                guard case .string(let s) = v else { throw fail() }
                parts.append(s)
            }
            return .string(parts.joined(separator: sep))
        case ("isSorted", 0):
            for i in list.indices.dropFirst() {
                guard let c = CELOperators.compare(list[i - 1], list[i]) else { throw fail() }
                if c > 0 { return .bool(false) }
            }
            return .bool(true)
        case ("sum", 0):
            guard var total = list.first else { return .int(0) }
            for v in list.dropFirst() { total = try CELOperators.binary(.add, total, v) }
            switch total {
            case .int, .uint, .double, .duration: return total
            default: throw fail()
            }
        case ("min", 0), ("max", 0):
            guard var best = list.first else { throw CELError.eval("\(name)(list) called on empty list") }
            for v in list.dropFirst() {
                guard let c = CELOperators.compare(v, best) else { throw fail() }
                if name == "min" ? c < 0 : c > 0 { best = v }
            }
            return best
        case ("indexOf", 1):
            return .int(Int64(list.firstIndex { CELOperators.equal($0, args[0]) } ?? -1))
        case ("lastIndexOf", 1):
            return .int(Int64(list.lastIndex { CELOperators.equal($0, args[0]) } ?? -1))
        default:
            throw fail()
        }
    }
}
