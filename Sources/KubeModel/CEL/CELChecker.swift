/// A type-light check after parsing: every name is a declared variable, a comprehension
/// variable or a type, and every function exists with that many arguments. Types of values are
/// only known at run time (objects are dynamic), so operand mismatches surface then.
struct CELChecker {
    let source: String
    let variables: Set<String>
    private(set) var referenced: Set<String> = []

    init(source: String, variables: Set<String>) {
        self.source = source
        self.variables = variables
    }

    mutating func check(_ e: CELExpr, locals: Set<String> = []) throws(CELError) {
        switch e {
        case .literal:
            return
        case .ident(let name):
            if locals.contains(name) { return }
            if variables.contains(name) { referenced.insert(name); return }
            if CELEvaluator.typeNames.contains(name) { return }
            throw error("undeclared reference to '\(name)' (in container '')", near: name)
        case .select(let o, _), .presence(let o, _), .unary(_, let o):
            try check(o, locals: locals)
        case .index(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            try check(a, locals: locals)
            try check(b, locals: locals)
        case .conditional(let a, let b, let c):
            try check(a, locals: locals)
            try check(b, locals: locals)
            try check(c, locals: locals)
        case .list(let items):
            for i in items { try check(i, locals: locals) }
        case .map(let entries):
            for (k, v) in entries {
                try check(k, locals: locals)
                try check(v, locals: locals)
            }
        case .call(let target, let function, let args):
            if let target {
                try check(target, locals: locals)
                guard let arities = CELFunctions.methods[function] else {
                    throw error("undeclared reference to '\(function)' (in container '')", near: function)
                }
                guard arities.contains(args.count) else {
                    throw error("found no matching overload for '\(function)' applied to \(args.count + 1) arguments", near: function)
                }
            } else {
                guard let arities = CELFunctions.globals[function] else {
                    throw error("undeclared reference to '\(function)' (in container '')", near: function)
                }
                guard arities.contains(args.count) else {
                    throw error("found no matching overload for '\(function)' applied to \(args.count) arguments", near: function)
                }
            }
            for a in args { try check(a, locals: locals) }
        case .comprehension(_, let range, let variable, let filter, let body):
            try check(range, locals: locals)
            let inner = locals.union([variable])
            if let filter { try check(filter, locals: inner) }
            try check(body, locals: inner)
        }
    }

    /// An error placed at the first occurrence of `word` in the source (the AST keeps no positions).
    private func error(_ message: String, near word: String) -> CELError {
        let chars = Array(source)
        let w = Array(word)
        var offset = 0
        if !w.isEmpty, chars.count >= w.count {
            for i in 0...(chars.count - w.count) where Array(chars[i..<(i + w.count)]) == w {
                offset = i
                break
            }
        }
        let (line, col) = CELLexer.position(source, offset)
        return CELError(.check, message, line: line, column: col)
    }
}
