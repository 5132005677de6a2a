import Testing
@testable import APIServer
import KubeModel

/// `x-kubernetes-validations` of custom resource schemas: where rules run, how transition
/// rules find the old value, and the field errors kube-apiserver gives.
@Suite struct CustomResourceValidationRulesTests {
    static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object",
                "x-kubernetes-validations": [["rule": "self.min <= self.max", "reason": "FieldValueForbidden", "fieldPath": ".min"]],
                "properties": [
                    "min": ["type": "integer"], "max": ["type": "integer"],
                    "ratio": ["type": "number", "x-kubernetes-validations": [["rule": "type(self) == double && self < 1.0"]]],
                    "ports": [
                        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                        "items": [
                            "type": "object",
                            "properties": ["name": ["type": "string"], "port": ["type": "integer"]],
                            "x-kubernetes-validations": [["rule": "self.port == oldSelf.port", "message": "port is immutable"]],
                        ],
                    ],
                    "labels": [
                        "type": "object", "additionalProperties": ["type": "string", "x-kubernetes-validations": [["rule": "self.size() < 5"]]],
                    ],
                    "phase": [
                        "type": "string",
                        "x-kubernetes-validations": [["rule": "!oldSelf.hasValue() || oldSelf.value() != 'Done' || self == 'Done'",
                                                      "optionalOldSelf": true, "message": "Done is final"]],
                    ],
                ],
            ],
        ],
    ]

    static func errors(_ object: JSONValue, old: JSONValue? = nil) -> [String] {
        CustomResourceSchema(schema).validate(object, old: old).map(\.message)
    }

    @Test func rulesRunAtEveryLevel() {
        #expect(Self.errors(["spec": ["min": 1, "max": 2, "ratio": 0.5, "labels": ["a": "x"]]]) == [])
        #expect(Self.errors(["spec": ["min": 3, "max": 2]]) == ["spec.min: Forbidden: failed rule: self.min <= self.max"])
        // An integer written into a number field is a double to CEL.
        #expect(Self.errors(["spec": ["min": 1, "max": 2, "ratio": 2]])
                == ["spec.ratio: Invalid value: \"number\": failed rule: type(self) == double && self < 1.0"])
        #expect(Self.errors(["spec": ["min": 1, "max": 2, "labels": ["long": "abcdef"]]])
                == ["spec.labels[long]: Invalid value: \"string\": failed rule: self.size() < 5"])
    }

    @Test func transitionRulesCorrelateMapListsByKey() {
        let old: JSONValue = ["spec": ["min": 1, "max": 2, "ports": [["name": "a", "port": 80], ["name": "b", "port": 81]]]]
        // Reordered and one added: the existing entries keep their ports, the new one has no old value.
        let reordered: JSONValue = ["spec": ["min": 1, "max": 2, "ports": [["name": "c", "port": 1], ["name": "b", "port": 81], ["name": "a", "port": 80]]]]
        #expect(Self.errors(reordered, old: old) == [])
        let changed: JSONValue = ["spec": ["min": 1, "max": 2, "ports": [["name": "a", "port": 8080]]]]
        #expect(Self.errors(changed, old: old) == ["spec.ports[0]: Invalid value: \"object\": port is immutable"])
        // On create transition rules do not run.
        #expect(Self.errors(changed) == [])
    }

    @Test func optionalOldSelfRunsOnCreateToo() {
        #expect(Self.errors(["spec": ["min": 1, "max": 2, "phase": "Done"]]) == [])
        #expect(Self.errors(["spec": ["min": 1, "max": 2, "phase": "Running"]], old: ["spec": ["min": 1, "max": 2, "phase": "Done"]])
                == ["spec.phase: Invalid value: \"string\": Done is final"])
    }

    @Test func runtimeErrorsAndTypeErrors() {
        let s: JSONValue = ["type": "object", "properties": ["spec": [
            "type": "object", "properties": ["n": ["type": "integer"]],
            "x-kubernetes-validations": [["rule": "self.n > 0"]],
        ]]]
        let schema = CustomResourceSchema(s)
        #expect(schema.validate(["spec": [:]]).map(\.message)
                == ["spec: Invalid value: \"object\": no such key: n evaluating rule: self.n > 0"])
        #expect(schema.validate(["spec": ["n": "x"]]).map(\.message).last?.contains("some validation rules were not checked") == true)
    }

    @Test func compileErrorsNameTheRule() {
        let s: JSONValue = ["type": "object", "properties": ["spec": [
            "type": "object", "x-kubernetes-validations": [["rule": "self.a +"], ["rule": "x > 1"], ["rule": "self.a > 0", "reason": "Bogus"]],
        ]]]
        let errs = CustomResourceValidationRules.compileErrors(schema: s, path: "spec.validation.openAPIV3Schema")
        #expect(errs.map(\.field) == [
            "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule",
            "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule",
            "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].reason",
        ])
        #expect(errs.first?.detail.hasPrefix("compilation failed: ERROR: <input>:1:9: Syntax error") == true)
        #expect(errs[1].detail == "compilation failed: ERROR: <input>:1:1: undeclared reference to 'x' (in container '')")
    }
}
