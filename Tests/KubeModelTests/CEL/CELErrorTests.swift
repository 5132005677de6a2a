import Testing
import KubeModel

/// Runtime errors, CEL's error absorption by `&&`/`||`, compile errors and the cost limit.
@Suite struct CELErrorTests {
    static func eval(_ source: String, _ bindings: [String: CELValue] = [:], costLimit: Int = CELProgram.defaultCostLimit) throws -> CELValue {
        try CELProgram.compile(source, variables: Set(bindings.keys)).evaluate(bindings, costLimit: costLimit)
    }

    @Test(arguments: [
        ("9223372036854775807 + 1", "integer overflow"), ("-9223372036854775808 - 1", "integer overflow"),
        ("9223372036854775807 * 2", "integer overflow"), ("-9223372036854775808 / -1", "integer overflow"),
        ("0u - 1u", "integer overflow"), ("1 / 0", "division by zero"), ("1 % 0", "modulus by zero"),
        ("[1][3]", "index out of bounds: 3"), ("{'a': 1}.b", "no such key: b"), ("{'a': 1}['z']", "no such key: z"),
        ("1 + 1.0", "no such overload: _+_(int, double)"), ("'a' < 1", "no such overload: _<_(string, int)"),
        ("int('x')", "type conversion error from 'string' to 'int'"), ("int(1e20)", "range error converting double to int"),
        ("uint(-1)", "range error converting int to uint"), ("'abc'.substring(2, 1)", "invalid substring range. start: 2, end: 1"),
        ("'abc'.substring(5)", "index out of range: 5"), ("[].min()", "min(list) called on empty list"),
        ("{'a': 1, 'a': 2}", "Failed with repeated key"), ("'x'.matches('[')", "invalid regular expression: ["),
        ("duration('1x')", "invalid duration: 1x"), ("-(-9223372036854775807 - 1)", "integer overflow"),
    ])
    func runtimeErrors(_ source: String, _ message: String) {
        #expect(throws: CELError(.evaluation, message)) { try Self.eval(source) }
    }

    /// `&&` and `||` are commutative: the deciding side wins whatever the other side did.
    @Test(arguments: [
        ("1/0 == 1 && false", CELValue.bool(false)), ("false && 1/0 == 1", .bool(false)),
        ("1/0 == 1 || true", .bool(true)), ("true || 1/0 == 1", .bool(true)),
        ("[0, 1].exists(x, 1 / x == 1)", .bool(true)), ("[0, 1].all(x, 1 / x == 2)", .bool(false)),
    ])
    func errorsAbsorbed(_ source: String, _ expected: CELValue) throws {
        #expect(try Self.eval(source) == expected)
    }

    @Test(arguments: ["1/0 == 1 && true", "false || 1/0 == 1", "[0, 1].all(x, 1 / x == 1)"])
    func errorsNotAbsorbed(_ source: String) {
        #expect(throws: CELError(.evaluation, "division by zero")) { try Self.eval(source) }
    }

    @Test(arguments: [
        ("self.x <", "ERROR: <input>:1:9: Syntax error: mismatched input '<EOF>'"),
        ("1 +* 2", "ERROR: <input>:1:4: Syntax error: mismatched input '*'"),
        ("'abc", "ERROR: <input>:1:1: Syntax error: unterminated string"),
        ("foo == 1", "ERROR: <input>:1:1: undeclared reference to 'foo' (in container '')"),
        ("self.bogus(1)", "ERROR: <input>:1:6: undeclared reference to 'bogus' (in container '')"),
        ("size(1, 2)", "ERROR: <input>:1:1: found no matching overload for 'size' applied to 2 arguments"),
        ("has(self)", "ERROR: <input>:1:10: Syntax error: invalid argument to has() macro"),
        ("self.all(1, true)", "ERROR: <input>:1:18: Syntax error: argument must be a simple name"),
        ("var == 1", "ERROR: <input>:1:1: Syntax error: reserved identifier: var"),
        ("self.x + namespace", "ERROR: <input>:1:10: Syntax error: reserved identifier: namespace"),
        ("'\\q'", "ERROR: <input>:1:2: Syntax error: invalid escape sequence: \\q"),
    ])
    func compileErrors(_ source: String, _ message: String) {
        do {
            _ = try CELProgram.compile(source, variables: ["self"])
            Issue.record("\(source) compiled")
        } catch {
            #expect(error.description == message, "\(source)")
        }
    }

    @Test func deepNestingIsRefused() throws {
        let source = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        #expect(throws: CELError.self) { try CELProgram.compile(source, variables: []) }
        // Long chains of operators and selections nest as deeply, and are refused the same way.
        for chain in [Array(repeating: "1", count: 5000).joined(separator: " + "),
                      Array(repeating: "true", count: 5000).joined(separator: " && "),
                      "self" + String(repeating: ".a", count: 5000)] {
            #expect(throws: CELError.self) { try CELProgram.compile(chain, variables: ["self"]) }
        }
        let fine = Array(repeating: "1", count: 100).joined(separator: " + ")
        #expect(try CELProgram.compile(fine, variables: []).evaluate([:]) == .int(100))
    }

    @Test func costLimitStopsLongRules() throws {
        let program = try CELProgram.compile("self.all(x, self.all(y, self.all(z, x + y + z >= 0)))", variables: ["self"])
        let big = CELValue.list((0..<200).map { CELValue.int(Int64($0)) })
        #expect(throws: CELError(.costLimit, "operation cancelled: actual cost limit exceeded")) {
            try program.evaluate(["self": big])
        }
        #expect(try program.evaluate(["self": .list([.int(1), .int(2)])]) == .bool(true))
    }

    @Test func referencesNameTheVariablesUsed() throws {
        #expect(try CELProgram.compile("self == oldSelf", variables: ["self", "oldSelf"]).references == ["self", "oldSelf"])
        #expect(try CELProgram.compile("self.all(oldSelf, oldSelf > 0)", variables: ["self", "oldSelf"]).references == ["self"])
    }
}
