/// The parsed form of a CEL expression. Operators keep their own cases (not generic calls) so the
/// evaluator can give `&&`, `||` and `?:` their short-circuit and error-absorbing semantics.
public indirect enum CELExpr: Sendable {
    case literal(CELValue)
    case ident(String)
    /// `operand.field`; `has(operand.field)` is `presence`.
    case select(CELExpr, String)
    case presence(CELExpr, String)
    case index(CELExpr, CELExpr)
    /// A function call, `f(args)` or `target.f(args)`.
    case call(target: CELExpr?, function: String, args: [CELExpr])
    case list([CELExpr])
    case map([(CELExpr, CELExpr)])
    case unary(CELUnaryOp, CELExpr)
    case binary(CELBinaryOp, CELExpr, CELExpr)
    case and(CELExpr, CELExpr)
    case or(CELExpr, CELExpr)
    case conditional(CELExpr, CELExpr, CELExpr)
    /// `range.all(v, body)` and the other macros; `filter` is the optional predicate of `map(v, p, t)`.
    case comprehension(CELMacro, range: CELExpr, variable: String, filter: CELExpr?, body: CELExpr)
}

public enum CELUnaryOp: String, Sendable {
    case not = "!"
    case negate = "-"
}

public enum CELBinaryOp: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%"
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case `in` = "in"
}

/// The comprehension macros of the CEL standard.
public enum CELMacro: String, Sendable {
    case all, exists
    case existsOne = "exists_one"
    case map, filter
}
