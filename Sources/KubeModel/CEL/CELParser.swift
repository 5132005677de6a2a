/// A recursive-descent parser for CEL's grammar (cel-spec `langdef.md`), expanding the standard
/// macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`) while parsing.
struct CELParser {
    private let source: String
    private let tokens: [CELToken]
    private var pos = 0
    private var depth = 0
    /// Deeper trees are refused rather than risking the stack on hostile input. Chains of
    /// operators (`a + a + ...`, `a.b.c...`) count too: they nest as deeply as parentheses.
    static let maxDepth = 250

    init(_ source: String) throws(CELError) {
        self.source = source
        var lexer = CELLexer(source)
        tokens = try lexer.tokens()
    }

    mutating func parse() throws(CELError) -> CELExpr {
        let e = try expr()
        guard case .eof = tokens[pos].kind else { throw unexpected() }
        return e
    }

    // MARK: tokens

    private var kind: CELToken.Kind { tokens[pos].kind }

    private func isPunct(_ p: String) -> Bool {
        if case .punct(let q) = kind { return q == p }
        return false
    }

    private mutating func accept(_ p: String) -> Bool {
        guard isPunct(p) else { return false }
        pos += 1
        return true
    }

    private mutating func expect(_ p: String) throws(CELError) {
        guard accept(p) else { throw unexpected(expecting: p) }
    }

    private func error(_ message: String) -> CELError {
        let (line, col) = CELLexer.position(source, tokens[pos].offset)
        return CELError(.syntax, message, line: line, column: col)
    }

    private func unexpected(expecting: String? = nil) -> CELError {
        let shown: String
        switch kind {
        case .eof: shown = "<EOF>"
        case .punct(let p): shown = p
        case .ident(let i): shown = i
        case .string(let s): shown = "\"\(s)\""
        default: shown = "literal"
        }
        return error("mismatched input '\(shown)'" + (expecting.map { " expecting '\($0)'" } ?? ""))
    }

    /// One more level of a left-deep chain; `depth` is restored by the caller when the chain ends.
    private mutating func grow(_ chain: inout Int) throws(CELError) {
        chain += 1
        depth += 1
        guard depth <= Self.maxDepth else { throw error("expression recursion limit exceeded: \(Self.maxDepth)") }
    }

    private mutating func nested<T>(_ body: (inout CELParser) throws(CELError) -> T) throws(CELError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("expression recursion limit exceeded: \(Self.maxDepth)") }
        return try body(&self)
    }

    // MARK: grammar

    private mutating func expr() throws(CELError) -> CELExpr {
        try nested { p throws(CELError) in
            let cond = try p.conditionalOr()
            guard p.accept("?") else { return cond }
            let yes = try p.conditionalOr()
            try p.expect(":")
            let no = try p.expr()
            return .conditional(cond, yes, no)
        }
    }

    private mutating func conditionalOr() throws(CELError) -> CELExpr {
        var e = try conditionalAnd()
        var chain = 0
        defer { depth -= chain }
        while accept("||") {
            try grow(&chain)
            e = .or(e, try conditionalAnd())
        }
        return e
    }

    private mutating func conditionalAnd() throws(CELError) -> CELExpr {
        var e = try relation()
        var chain = 0
        defer { depth -= chain }
        while accept("&&") {
            try grow(&chain)
            e = .and(e, try relation())
        }
        return e
    }

    private mutating func relation() throws(CELError) -> CELExpr {
        var e = try addition()
        var chain = 0
        defer { depth -= chain }
        while true {
            let op: CELBinaryOp
            if case .ident("in") = kind { op = .in } else if case .punct(let p) = kind,
                let o = CELBinaryOp(rawValue: p), ["<", "<=", ">", ">=", "==", "!="].contains(p) { op = o } else { return e }
            pos += 1
            try grow(&chain)
            e = .binary(op, e, try addition())
        }
    }

    private mutating func addition() throws(CELError) -> CELExpr {
        var e = try multiplication()
        var chain = 0
        defer { depth -= chain }
        while true {
            if isPunct("+") || isPunct("-") { try grow(&chain) }
            if accept("+") { e = .binary(.add, e, try multiplication()) } else if accept("-") {
                e = .binary(.subtract, e, try multiplication())
            } else { return e }
        }
    }

    private mutating func multiplication() throws(CELError) -> CELExpr {
        var e = try unary()
        var chain = 0
        defer { depth -= chain }
        while true {
            if isPunct("*") || isPunct("/") || isPunct("%") { try grow(&chain) }
            if accept("*") { e = .binary(.multiply, e, try unary()) } else if accept("/") {
                e = .binary(.divide, e, try unary())
            } else if accept("%") { e = .binary(.modulo, e, try unary()) } else { return e }
        }
    }

    private mutating func unary() throws(CELError) -> CELExpr {
        try nested { p throws(CELError) in
            if p.accept("!") { return .unary(.not, try p.unary()) }
            if p.accept("-") {
                // The most negative int is only writable as a negated literal.
                if case .intMinMagnitude = p.kind {
                    p.pos += 1
                    return try p.member(.literal(.int(Int64.min)))
                }
                if case .int(let i) = p.kind {
                    p.pos += 1
                    return try p.member(.literal(.int(-i)))
                }
                if case .double(let d) = p.kind {
                    p.pos += 1
                    return try p.member(.literal(.double(-d)))
                }
                return .unary(.negate, try p.unary())
            }
            return try p.member(try p.primary())
        }
    }

    private mutating func member(_ start: CELExpr) throws(CELError) -> CELExpr {
        var e = start
        var chain = 0
        defer { depth -= chain }
        while true {
            if isPunct(".") || isPunct("[") { try grow(&chain) }
            if accept(".") {
                guard case .ident(let name) = kind else { throw unexpected() }
                pos += 1
                if accept("(") {
                    let args = try exprList(closing: ")")
                    e = try Self.receiverCall(e, name, args, error(_:))
                } else {
                    e = .select(e, name)
                }
            } else if accept("[") {
                let i = try expr()
                try expect("]")
                e = .index(e, i)
            } else {
                return e
            }
        }
    }

    private mutating func primary() throws(CELError) -> CELExpr {
        let token = kind
        switch token {
        case .int(let i): pos += 1; return .literal(.int(i))
        case .intMinMagnitude: throw error("invalid int literal")
        case .uint(let u): pos += 1; return .literal(.uint(u))
        case .double(let d): pos += 1; return .literal(.double(d))
        case .string(let s): pos += 1; return .literal(.string(s))
        case .bytes(let b): pos += 1; return .literal(.bytes(b))
        case .ident(let name):
            pos += 1
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            case "in": throw error("mismatched input 'in'")
            default:
                if CELLexer.reserved.contains(name) {
                    pos -= 1
                    throw error("reserved identifier: \(name)")
                }
            }
            guard accept("(") else { return .ident(name) }
            let args = try exprList(closing: ")")
            if name == "has" {
                guard args.count == 1, case .select(let operand, let field) = args[0] else {
                    throw error("invalid argument to has() macro")
                }
                return .presence(operand, field)
            }
            return .call(target: nil, function: name, args: args)
        case .punct("("):
            pos += 1
            let e = try expr()
            try expect(")")
            return e
        case .punct("["):
            pos += 1
            return .list(try exprList(closing: "]"))
        case .punct("{"):
            pos += 1
            var entries: [(CELExpr, CELExpr)] = []
            while !accept("}") {
                let k = try expr()
                try expect(":")
                entries.append((k, try expr()))
                if !accept(",") { try expect("}"); break }
            }
            return .map(entries)
        case .punct("."):
            // A leading dot names the root scope: `.self` is `self`.
            pos += 1
            return try primary()
        default:
            throw unexpected()
        }
    }

    /// Comma-separated expressions up to `closing`, a trailing comma allowed.
    private mutating func exprList(closing: String) throws(CELError) -> [CELExpr] {
        var out: [CELExpr] = []
        while !accept(closing) {
            out.append(try expr())
            if !accept(",") { try expect(closing); break }
        }
        return out
    }

    /// `target.name(args)`: a macro when the name and shape are one, else a method call.
    private static func receiverCall(
        _ target: CELExpr, _ name: String, _ args: [CELExpr], _ error: (String) -> CELError
    ) throws(CELError) -> CELExpr {
        guard let macro = CELMacro(rawValue: name), args.count == 2 || (macro == .map && args.count == 3) else {
            return .call(target: target, function: name, args: args)
        }
        guard case .ident(let variable) = args[0] else { throw error("argument must be a simple name") }
        if args.count == 3 { return .comprehension(.map, range: target, variable: variable, filter: args[1], body: args[2]) }
        return .comprehension(macro, range: target, variable: variable, filter: nil, body: args[1])
    }
}
