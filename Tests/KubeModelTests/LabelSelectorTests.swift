import Testing
@testable import KubeModel

@Suite struct LabelSelectorTests {
    private func sel(_ s: String) throws(SelectorParseError) -> LabelSelector { try LabelSelector.parse(s) }

    private func err(_ s: String) -> String? {
        do { _ = try LabelSelector.parse(s); return nil } catch { return error.message }
    }

    @Test func equalityOperators() throws {
        let labels = ["app": "web", "tier": "front"]
        #expect(try sel("app=web").matches(labels))
        #expect(try sel("app==web").matches(labels))
        #expect(try !sel("app=db").matches(labels))
        #expect(try sel("app!=db").matches(labels))
        #expect(try sel("missing!=x").matches(labels))
        #expect(try !sel("app!=web").matches(labels))
        #expect(try sel("app=web,tier=front").matches(labels))
        #expect(try !sel("app=web,tier=back").matches(labels))
        #expect(try sel("empty=").matches(["empty": ""]))
        #expect(try !sel("empty=").matches([:]))
    }

    @Test func setOperators() throws {
        let labels = ["env": "prod", "n": "5"]
        #expect(try sel("env in (prod, staging)").matches(labels))
        #expect(try sel("env in(prod)").matches(labels))
        #expect(try !sel("env in (dev)").matches(labels))
        #expect(try sel("env notin (dev,qa)").matches(labels))
        #expect(try sel("other notin (dev)").matches(labels))
        #expect(try !sel("env notin (prod)").matches(labels))
        #expect(try sel("env").matches(labels))
        #expect(try !sel("other").matches(labels))
        #expect(try sel("!other").matches(labels))
        #expect(try !sel("!env").matches(labels))
        #expect(try sel("n>3").matches(labels))
        #expect(try !sel("n>5").matches(labels))
        #expect(try sel("n<10").matches(labels))
        #expect(try !sel("env<10").matches(labels))  // non-numeric label never matches
        #expect(try !sel("absent>1").matches(labels))
        // Keywords are ordinary identifiers in value position.
        #expect(try sel("k in (in, notin)").matches(["k": "notin"]))
    }

    @Test func whitespaceAndCanonicalForm() throws {
        let s = try sel("  tier notin ( b , a ) ,  app = web,!gone,  exists , n>1 ")
        // Sorted by key, whatever the operator.
        #expect(s.description == "app=web,exists,!gone,n>1,tier notin (a,b)")
        #expect(s.requirements.count == 5)
        #expect(try sel("x in (b,a,b)").description == "x in (a,b)")
        #expect(try sel("example.com/role=db").description == "example.com/role=db")
        #expect(try sel("").isEverything)
        #expect(try sel("   ").matches([:]))
    }

    @Test func emptySetMembers() throws {
        #expect(try sel("x in ()").requirements.first?.values == [""])
        #expect(try sel("x in (a,)").requirements.first?.values == ["", "a"])
        #expect(try sel("x in (,a)").requirements.first?.values == ["", "a"])
    }

    @Test func parseErrors() {
        #expect(err("a b") == "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt")
        #expect(err("a=b c") == "found 'c', expected: ',' or 'end of string'")
        #expect(err("a,") == "found '', expected: identifier after ','")
        #expect(err(",a") == "found ',', expected: !, identifier, or 'end of string'")
        #expect(err("a in b") == "unable to parse requirement: found 'b' expected: '('")
        #expect(err("a in (b") == "unable to parse requirement: found '', expected: ',' or ')'")
        #expect(err("a in (b c)") == "unable to parse requirement: found 'c', expected: ',' or ')'")
        #expect(err("a foo b") == "unable to parse requirement: found 'foo', expected: in, notin, =, ==, !=, gt, lt")
        #expect(err("a=>b")?.contains("unable to parse requirement: found '>', expected: identifier") == true)
        #expect(err("a=(") == "unable to parse requirement: found '(', expected: identifier")
        #expect(err("!") == "unable to parse requirement: found '', expected: identifier")
        #expect(err("!a=b") == "found '=', expected: ',' or 'end of string'")
        #expect(err("a>x") == "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer")
    }

    @Test func validationErrors() {
        #expect(err("a b=c") != nil)
        let badKey = err("-a=b")
        #expect(badKey?.hasPrefix("unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters") == true)
        let badValue = err("a=-b")
        #expect(badValue?.hasPrefix("unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string") == true)
        #expect(err("Example.com/a=b")?.contains("prefix part a lowercase RFC 1123 subdomain") == true)
        #expect(err("/a=b")?.contains("prefix part must be non-empty") == true)
        #expect(err("a/b/c=d")?.contains("with an optional DNS subdomain prefix") == true)
        #expect(err(String(repeating: "k", count: 64))?.contains("name part must be no more than 63 characters") == true)
        #expect(err("a=" + String(repeating: "v", count: 64))?.contains("must be no more than 63 characters") == true)
        #expect(err(String(repeating: "k", count: 63)) == nil)
        #expect(err("a.b-c.d/E.f_g-9 in (A1, b.2, c_3)") == nil)
        #expect(err("a_b/c=d")?.contains("prefix part a lowercase RFC 1123 subdomain") == true)
    }

    @Test func fromJSON() throws {
        let s = try LabelSelector.fromJSON([
            "matchLabels": ["app": "web"],
            "matchExpressions": [
                ["key": "tier", "operator": "In", "values": ["a", "b"]],
                ["key": "legacy", "operator": "DoesNotExist"],
                ["key": "zone", "operator": "Exists"],
                ["key": "env", "operator": "NotIn", "values": ["dev"]],
            ],
        ])
        #expect(s.description == "app=web,env notin (dev),!legacy,tier in (a,b),zone")
        #expect(s.matches(["app": "web", "tier": "a", "zone": "z"]))
        #expect(!s.matches(["app": "web", "tier": "a"]))
        #expect(!s.matches(["app": "web", "tier": "a", "zone": "z", "legacy": "1"]))
    }

    @Test func nullAndEmpty() throws {
        let nothing = try LabelSelector.fromJSON(.null)
        #expect(!nothing.matches([:]))
        #expect(!nothing.isEverything)
        #expect(nothing == .nothing)
        let everything = try LabelSelector.fromJSON([:])
        #expect(everything.matches(["any": "thing"]))
        #expect(everything.isEverything)
        #expect(try LabelSelector.fromJSON(["matchLabels": .null, "matchExpressions": .array([])]).isEverything)
        #expect(LabelSelector.everything.description == "")
    }

    @Test func fromJSONErrors() {
        func e(_ v: JSONValue) -> String? {
            do { _ = try LabelSelector.fromJSON(v); return nil } catch { return error.message }
        }
        #expect(e(["matchExpressions": [["key": "a", "operator": "Gt", "values": ["1"]]]]) == "\"Gt\" is not a valid label selector operator")
        #expect(e(["matchExpressions": [["key": "a", "operator": "In", "values": .array([])]]])?.contains("values set can't be empty") == true)
        #expect(e(["matchExpressions": [["key": "a", "operator": "Exists", "values": ["x"]]]])?.contains("values set must be empty") == true)
        #expect(e(["matchLabels": ["bad key": "v"]])?.hasPrefix("key: Invalid value: \"bad key\"") == true)
        #expect(e(["matchLabels": ["k": 1]]) != nil)
        #expect(e("string") != nil)
    }
}
