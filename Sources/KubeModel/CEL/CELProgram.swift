/// A compiled CEL expression: parsed, checked against the variables it may use, and ready to
/// evaluate any number of times (it is an immutable value, shared freely).
public struct CELProgram: Sendable {
    public let source: String
    let expr: CELExpr
    /// The declared variables the expression refers to (`oldSelf` makes a transition rule).
    public let references: Set<String>

    /// Kubernetes' per-expression runtime cost limit, counted here in evaluation steps.
    public static let defaultCostLimit = 1_000_000

    public static func compile(_ source: String, variables: Set<String>) throws(CELError) -> CELProgram {
        var parser = try CELParser(source)
        let expr = try parser.parse()
        var checker = CELChecker(source: source, variables: variables)
        try checker.check(expr)
        return CELProgram(source: source, expr: expr, references: checker.referenced)
    }

    private init(source: String, expr: CELExpr, references: Set<String>) {
        self.source = source
        self.expr = expr
        self.references = references
    }

    public func evaluate(_ bindings: [String: CELValue], costLimit: Int = CELProgram.defaultCostLimit) throws(CELError) -> CELValue {
        var evaluator = CELEvaluator(bindings: bindings, costLimit: costLimit)
        return try evaluator.eval(expr)
    }

    /// Evaluates an expression that must yield a bool (rules, validations, match conditions).
    public func evaluateBool(_ bindings: [String: CELValue], costLimit: Int = CELProgram.defaultCostLimit) throws(CELError) -> Bool {
        let v = try evaluate(bindings, costLimit: costLimit)
        guard case .bool(let b) = v else { throw CELError.eval("expected a bool result, got \(v.typeName)") }
        return b
    }
}

extension CELValue {
    /// The text of a value for messages: a string as is, other values as CEL prints them.
    public var displayText: String { CELFormat.text(self) }
}

extension CELValue: Equatable {
    /// Same type and CEL-equal: what tests compare results with (`1 == 1u` is true in CEL, not here).
    public static func == (a: CELValue, b: CELValue) -> Bool { a.typeName == b.typeName && CELOperators.equal(a, b) }
}
