/// Evaluates a parsed expression against variable bindings, counting one step per node visited
/// and per comprehension iteration so no expression runs past its budget.
struct CELEvaluator {
    let bindings: [String: CELValue]
    let costLimit: Int
    private(set) var steps = 0
    /// Comprehension variables, innermost last; they shadow bindings.
    private var locals: [(name: String, value: CELValue)] = []

    init(bindings: [String: CELValue], costLimit: Int) {
        self.bindings = bindings
        self.costLimit = costLimit
    }

    /// Type names usable as values (`type(x) == string`) and as conversion functions.
    static let typeNames: Set<String> = [
        "int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type",
        "google.protobuf.Duration", "google.protobuf.Timestamp",
    ]

    private mutating func step(_ n: Int = 1) throws(CELError) {
        steps += n
        if steps > costLimit { throw CELError(.costLimit, "operation cancelled: actual cost limit exceeded") }
    }

    mutating func eval(_ e: CELExpr) throws(CELError) -> CELValue {
        try step()
        switch e {
        case .literal(let v):
            return v
        case .ident(let name):
            return try lookup(name)
        case .select(let operand, let field):
            return try CELOperators.select(try eval(operand), field)
        case .presence(let operand, let field):
            let v = try eval(operand)
            switch v {
            case .map(let m): return .bool(m[field] != nil)
            default: throw CELError.noOverload("has", [v])
            }
        case .index(let operand, let i):
            return try CELOperators.index(try eval(operand), try eval(i))
        case .list(let items):
            var out: [CELValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try eval(item)) }
            return .list(out)
        case .map(let entries):
            var m = CELMap()
            for (k, v) in entries {
                let key = try eval(k)
                guard CELMapKey(key) != nil else { throw CELError.eval("unsupported key type: \(key.typeName)") }
                guard m.insert(key, try eval(v)) else { throw CELError.eval("Failed with repeated key") }
            }
            return .map(m)
        case .unary(let op, let operand):
            return try CELOperators.unary(op, try eval(operand))
        case .binary(let op, let l, let r):
            return try CELOperators.binary(op, try eval(l), try eval(r))
        case .and(let l, let r):
            return try logical(l, r, absorbing: false)
        case .or(let l, let r):
            return try logical(l, r, absorbing: true)
        case .conditional(let c, let yes, let no):
            let cond = try eval(c)
            guard case .bool(let b) = cond else { throw CELError.noOverload("_?_:_", [cond]) }
            return try eval(b ? yes : no)
        case .call(let target, let function, let args):
            let receiver = try target.map { e throws(CELError) in try eval(e) }
            var values: [CELValue] = []
            for a in args { values.append(try eval(a)) }
            let result = try CELFunctions.call(function, receiver: receiver, args: values)
            try step(CELFunctions.cost(of: result))
            return result
        case .comprehension(let macro, let range, let variable, let filter, let body):
            return try comprehension(macro, try eval(range), variable, filter, body)
        }
    }

    private func lookupLocal(_ name: String) -> CELValue? {
        locals.last { $0.name == name }?.value
    }

    private func lookup(_ name: String) throws(CELError) -> CELValue {
        if let v = lookupLocal(name) ?? bindings[name] { return v }
        if Self.typeNames.contains(name) { return .type(name) }
        throw CELError.eval("no such attribute: \(name)")
    }

    /// CEL's commutative `&&` / `||`: a deciding value on either side wins over an error on the
    /// other; otherwise the first error is reported.
    private mutating func logical(_ l: CELExpr, _ r: CELExpr, absorbing decisive: Bool) throws(CELError) -> CELValue {
        let name = decisive ? "_||_" : "_&&_"
        var firstError: CELError?
        do throws(CELError) {
            let v = try eval(l)
            guard case .bool(let b) = v else { throw CELError.noOverload(name, [v]) }
            if b == decisive { return .bool(decisive) }
        } catch {
            if error.kind == .costLimit { throw error }
            firstError = error
        }
        let v = try eval(r)
        guard case .bool(let b) = v else {
            throw firstError ?? CELError.noOverload(name, [v])
        }
        if b == decisive { return .bool(decisive) }
        if let firstError { throw firstError }
        return .bool(!decisive)
    }

    private mutating func comprehension(
        _ macro: CELMacro, _ range: CELValue, _ variable: String, _ filter: CELExpr?, _ body: CELExpr
    ) throws(CELError) -> CELValue {
        let elements: [CELValue]
        switch range {
        case .list(let l): elements = l
        case .map(let m): elements = m.entries.map(\.key)
        default: throw CELError.noOverload(macro.rawValue, [range])
        }
        var out: [CELValue] = []
        var count = 0
        // `all`/`exists` keep CEL's absorption: an error on one element is dropped when another decides.
        var pendingError: CELError?
        for element in elements {
            try step()
            locals.append((variable, element))
            defer { locals.removeLast() }
            switch macro {
            case .all, .exists:
                let decisive = macro == .exists
                do throws(CELError) {
                    let v = try eval(body)
                    guard case .bool(let b) = v else { throw CELError.noOverload(macro.rawValue, [v]) }
                    if b == decisive { return .bool(decisive) }
                } catch {
                    if error.kind == .costLimit { throw error }
                    pendingError = pendingError ?? error
                }
            case .existsOne:
                let v = try eval(body)
                guard case .bool(let b) = v else { throw CELError.noOverload(macro.rawValue, [v]) }
                if b { count += 1 }
            case .filter:
                let v = try eval(body)
                guard case .bool(let b) = v else { throw CELError.noOverload(macro.rawValue, [v]) }
                if b { out.append(element) }
            case .map:
                if let filter {
                    let v = try eval(filter)
                    guard case .bool(let b) = v else { throw CELError.noOverload(macro.rawValue, [v]) }
                    if !b { continue }
                }
                out.append(try eval(body))
            }
        }
        switch macro {
        case .all, .exists:
            if let pendingError { throw pendingError }
            return .bool(macro == .all)
        case .existsOne: return .bool(count == 1)
        case .map, .filter: return .list(out)
        }
    }
}
