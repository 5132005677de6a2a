/// A failure while compiling or evaluating a CEL expression. Runtime errors are values in CEL
/// (`&&`/`||` may absorb them), so the evaluator throws this and the logical operators catch it.
public struct CELError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The expression does not parse.
        case syntax
        /// It parses but refers to unknown names or calls unknown functions.
        case check
        /// Evaluation failed: no such key, overflow, no matching overload, ...
        case evaluation
        /// The step budget ran out.
        case costLimit
    }

    public var kind: Kind
    public var message: String
    /// 1-based line and column of a compile error; nil at run time.
    public var line: Int?
    public var column: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    static func eval(_ message: String) -> CELError { CELError(.evaluation, message) }

    static func noOverload(_ function: String, _ args: [CELValue]) -> CELError {
        CELError(.evaluation, "no such overload: \(function)(\(args.map(\.typeName).joined(separator: ", ")))")
    }

    /// As cel-go prints errors: `ERROR: <input>:1:6: Syntax error: ...` for compile errors.
    public var description: String {
        switch kind {
        case .syntax, .check:
            return "ERROR: <input>:\(line ?? 1):\(column ?? 1): \(kind == .syntax ? "Syntax error: " : "")\(message)"
        case .evaluation: return message
        case .costLimit: return "operation cancelled: actual cost limit exceeded"
        }
    }
}
