import Testing
@testable import KubeModel

@Suite struct FieldSelectorTests {
    private func err(_ s: String) -> String? {
        do { _ = try FieldSelector.parse(s); return nil } catch { return error.message }
    }

    @Test func parsesOperatorsSorted() throws {
        let s = try FieldSelector.parse("status.phase!=Running,metadata.name==web,metadata.namespace=default")
        #expect(s.requirements == [
            .init(field: "metadata.name", op: .equals, value: "web"),
            .init(field: "metadata.namespace", op: .equals, value: "default"),
            .init(field: "status.phase", op: .notEquals, value: "Running"),
        ])
        #expect(s.description == "metadata.name=web,metadata.namespace=default,status.phase!=Running")
        #expect(s.requiredValue(for: "metadata.name") == "web")
        #expect(s.requiredValue(for: "status.phase") == nil)
    }

    @Test func matching() throws {
        let fields = ["metadata.name": "web", "status.phase": "Pending"]
        let get: (String) -> String? = { fields[$0] }
        #expect(try FieldSelector.parse("metadata.name=web").matches(get))
        #expect(try !FieldSelector.parse("metadata.name=db").matches(get))
        #expect(try FieldSelector.parse("status.phase!=Running").matches(get))
        #expect(try FieldSelector.parse("metadata.name=web,status.phase=Pending").matches(get))
        #expect(try !FieldSelector.parse("metadata.name=web,status.phase=Running").matches(get))
        // A missing field reads as "".
        #expect(try FieldSelector.parse("spec.nodeName=").matches(get))
        #expect(try !FieldSelector.parse("spec.nodeName!=").matches(get))
    }

    @Test func everything() throws {
        #expect(try FieldSelector.parse("").isEverything)
        #expect(try FieldSelector.parse(",").isEverything)
        #expect(try FieldSelector.parse("").matches { _ in nil })
        #expect(FieldSelector.everything.isEverything)
    }

    @Test func escapes() throws {
        let s = try FieldSelector.parse(#"a=x\,y\=z\\w,b!=\!"#)
        #expect(s.requirements[0].value == #"x,y=z\w"#)
        #expect(s.requirements[1].value == "!")
        #expect(s.requirements[0].description == #"a=x\,y\=z\\w"#)
        #expect(FieldSelector.escape("a,b=c") == #"a\,b\=c"#)
    }

    @Test func errors() {
        #expect(err("name") == "invalid selector: 'name'; can't understand 'name'")
        #expect(err("a=b,c") == "invalid selector: 'a=b,c'; can't understand 'c'")
        #expect(err(#"a=b\x"#) == #"invalid field selector: invalid escape sequence: \x"#)
        #expect(err(#"a=b\"#) == #"invalid field selector: invalid escape sequence: \"#)
        #expect(err("a=b=c") == "invalid field selector: unescaped character in value: =")
    }
}
