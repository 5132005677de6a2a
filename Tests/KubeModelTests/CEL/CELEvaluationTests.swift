import Testing
import KubeModel

/// Expressions and their values, after the CEL spec's conformance cases.
@Suite struct CELEvaluationTests {
    static func eval(_ source: String, _ bindings: [String: CELValue] = [:]) throws -> CELValue {
        try CELProgram.compile(source, variables: Set(bindings.keys)).evaluate(bindings)
    }

    @Test(arguments: [
        // literals
        ("42", CELValue.int(42)), ("-9223372036854775808", .int(Int64.min)), ("0x1F", .int(31)), ("42u", .uint(42)),
        ("0xFFu", .uint(255)), ("1.5", .double(1.5)), ("1e3", .double(1000)), (".5", .double(0.5)), ("-2.5e-1", .double(-0.25)),
        ("true", .bool(true)), ("null", .null), ("'a\\nb'", .string("a\nb")), ("\"\\u00e9\"", .string("é")),
        ("r'a\\nb'", .string("a\\nb")), ("'''x'y'''", .string("x'y")), ("\"\\x41\\101\"", .string("AA")),
        ("b'ab'", .bytes([97, 98])), ("b'\\xff'", .bytes([255])), ("'\\U0001F600'", .string("😀")),
        // arithmetic
        ("1 + 2 * 3", .int(7)), ("(1 + 2) * 3", .int(9)), ("7 / 2", .int(3)), ("-7 / 2", .int(-3)), ("7 % 3", .int(1)),
        ("-7 % 3", .int(-1)), ("5u - 3u", .uint(2)), ("1.0 / 4.0", .double(0.25)), ("'ab' + 'cd'", .string("abcd")),
        ("[1] + [2, 3]", .list([.int(1), .int(2), .int(3)])), ("--3", .int(3)), ("!!true", .bool(true)),
        // comparison, heterogeneous numbers
        ("1 == 1.0", .bool(true)), ("1u == 1", .bool(true)), ("1 < 1.5", .bool(true)), ("2u > -1", .bool(true)),
        ("'a' < 'b'", .bool(true)), ("b'a' < b'b'", .bool(true)), ("false < true", .bool(true)), ("1 == 'a'", .bool(false)),
        ("[1, 2] == [1, 2.0]", .bool(true)), ("{'a': 1} == {'a': 1}", .bool(true)), ("{'a': 1} != {'a': 2}", .bool(true)),
        ("null == null", .bool(true)), ("1 != null", .bool(true)),
        // in, index, select
        ("2 in [1, 2]", .bool(true)), ("'b' in {'a': 1}", .bool(false)), ("[1, 2, 3][1]", .int(2)), ("{'a': {'b': 5}}.a.b", .int(5)),
        ("{1: 'x'}[1u]", .string("x")), ("{'k': 1}['k']", .int(1)),
        // logic and ternary
        ("true && false", .bool(false)), ("false || true", .bool(true)), ("1 < 2 ? 'y' : 'n'", .string("y")),
        ("false ? 1 : true ? 2 : 3", .int(2)),
        // macros
        ("[1, 2, 3].all(x, x > 0)", .bool(true)), ("[1, 2, 3].exists(x, x > 2)", .bool(true)),
        ("[1, 2, 3].exists_one(x, x > 1)", .bool(false)), ("[1, 2, 3].map(x, x * 2)", .list([.int(2), .int(4), .int(6)])),
        ("[1, 2, 3].map(x, x > 1, x * 10)", .list([.int(20), .int(30)])), ("[1, 2, 3].filter(x, x % 2 == 1)", .list([.int(1), .int(3)])),
        ("{'a': 1, 'b': 2}.all(k, k.size() == 1)", .bool(true)), ("[[1], [2, 3]].exists(l, l.exists(x, x == 3))", .bool(true)),
        ("has({'a': 1}.a)", .bool(true)), ("{'namespace': 'ns'}.namespace", .string("ns")), ("has({'a': 1}.b)", .bool(false)), ("[].all(x, x)", .bool(true)),
    ])
    func evaluates(_ source: String, _ expected: CELValue) throws {
        #expect(try Self.eval(source) == expected, "\(source)")
    }

    @Test(arguments: [
        ("size('héllo')", CELValue.int(5)), ("'hello'.size()", .int(5)), ("size([1, 2])", .int(2)), ("size({'a': 1})", .int(1)),
        ("size(b'abc')", .int(3)), ("'hello'.contains('ell')", .bool(true)), ("'hello'.startsWith('he')", .bool(true)),
        ("'hello'.endsWith('lo')", .bool(true)), ("'abc123'.matches('^[a-z]+[0-9]+$')", .bool(true)),
        ("matches('xyz', 'y')", .bool(true)), ("'TacoCat'.lowerAscii()", .string("tacocat")),
        ("'TacoCÆt'.upperAscii()", .string("TACOCÆT")), ("'  \\ttrim\\n '.trim()", .string("trim")),
        ("'a,b,c'.split(',')", .list(["a", "b", "c"].map(CELValue.string))), ("'a,b,c'.split(',', 2)", .list(["a", "b,c"].map(CELValue.string))),
        ("'a,b'.split(',', 0)", .list([])), ("['a', 'b'].join('-')", .string("a-b")), ("['a', 'b'].join()", .string("ab")),
        ("'hello mellow'.indexOf('ello')", .int(1)), ("'hello mellow'.indexOf('ello', 2)", .int(7)),
        ("'hello mellow'.indexOf('jello')", .int(-1)), ("'hello mellow'.lastIndexOf('ello')", .int(7)),
        ("'hello mellow'.lastIndexOf('ello', 6)", .int(1)), ("'hello'.indexOf('')", .int(0)),
        ("'hello hello'.replace('he', 'we')", .string("wello wello")), ("'hello hello'.replace('he', 'we', 1)", .string("wello hello")),
        ("'tacocat'.substring(4)", .string("cat")), ("'tacocat'.substring(0, 4)", .string("taco")), ("'héllo'.substring(1, 2)", .string("é")),
        ("'abc'.charAt(1)", .string("b")), ("'abc 123 def 456'.find('[0-9]+')", .string("123")),
        ("'abc 123 def 456'.findAll('[0-9]+')", .list(["123", "456"].map(CELValue.string))),
        // conversions
        ("int('42')", .int(42)), ("int(2.9)", .int(2)), ("int(-2.9)", .int(-2)), ("int(42u)", .int(42)), ("uint(42)", .uint(42)),
        ("double(2)", .double(2)), ("double('1.5')", .double(1.5)), ("string(42)", .string("42")), ("string(1.5)", .string("1.5")),
        ("string(true)", .string("true")), ("string(b'hi')", .string("hi")), ("bool('true')", .bool(true)), ("bool('f')", .bool(false)),
        ("bytes('hi')", .bytes([104, 105])), ("type(1) == int", .bool(true)), ("type('a') == string", .bool(true)),
        ("type([]) == list", .bool(true)), ("type({}) == map", .bool(true)), ("type(null) == null_type", .bool(true)),
        ("type(type(1)) == type", .bool(true)), ("dyn(1) + 1", .int(2)),
        // time
        ("duration('1h30m') == duration('90m')", .bool(true)), ("duration('1s') < duration('2s')", .bool(true)),
        ("string(duration('1h'))", .string("3600s")), ("string(duration('1.5s'))", .string("1.5s")),
        ("timestamp('2024-01-01T00:00:00Z') < timestamp('2024-06-01T00:00:00Z')", .bool(true)),
        ("string(timestamp('2024-01-01T10:00:00Z') + duration('1h'))", .string("2024-01-01T11:00:00Z")),
        ("timestamp('2024-01-02T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('24h')", .bool(true)),
        ("timestamp('2024-03-15T10:20:30Z').getFullYear()", .int(2024)), ("timestamp('2024-03-15T10:20:30Z').getMonth()", .int(2)),
        ("timestamp('2024-03-15T10:20:30Z').getDate()", .int(15)), ("timestamp('2024-03-15T10:20:30Z').getHours()", .int(10)),
        ("duration('2h').getMinutes()", .int(120)), ("int(timestamp('1970-01-01T00:01:00Z'))", .int(60)),
        // Kubernetes' list library
        ("[1, 2, 2, 3].isSorted()", .bool(true)), ("['b', 'a'].isSorted()", .bool(false)), ("[1, 2, 3].sum()", .int(6)),
        ("[1.5, 2.5].sum()", .double(4)), ("[].sum()", .int(0)), ("[3, 1, 2].min()", .int(1)), ("[3, 1, 2].max()", .int(3)),
        ("['b', 'c', 'a'].max()", .string("c")), ("[1, 2, 1].indexOf(1)", .int(0)), ("[1, 2, 1].lastIndexOf(1)", .int(2)),
        // quantities
        ("quantity('1Gi').isGreaterThan(quantity('1G'))", .bool(true)), ("quantity('500m').compareTo(quantity('0.5'))", .int(0)),
        ("isQuantity('1Ki')", .bool(true)), ("isQuantity('1KB')", .bool(false)), ("quantity('2k').asInteger()", .int(2000)),
        ("quantity('1').add(quantity('500m')).isGreaterThan(quantity('1'))", .bool(true)),
    ])
    func functions(_ source: String, _ expected: CELValue) throws {
        #expect(try Self.eval(source) == expected, "\(source)")
    }

    @Test func variablesBindAndShadow() throws {
        let object = CELValue(json: ["spec": ["replicas": 3, "min": 1, "max": 5, "tags": ["a", "b"]]])
        #expect(try Self.eval("self.spec.replicas <= self.spec.max", ["self": object]) == .bool(true))
        #expect(try Self.eval("self.spec.tags.all(self, self.size() == 1)", ["self": object]) == .bool(true))
        #expect(try Self.eval("has(self.spec.min) && !has(self.spec.other)", ["self": object]) == .bool(true))
        #expect(try Self.eval("self.spec.tags.map(t, t + '!').join(',')", ["self": object]) == .string("a!,b!"))
        let opt = CELValue.optional(nil)
        #expect(try Self.eval("!oldSelf.hasValue() || oldSelf.value() == 1", ["oldSelf": opt]) == .bool(true))
        #expect(try Self.eval("oldSelf.orValue(7)", ["oldSelf": opt]) == .int(7))
    }
}
