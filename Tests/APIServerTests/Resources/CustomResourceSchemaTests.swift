import KubeModel
import Testing

@testable import APIServer

/// The structural schema of a custom resource: pruning keeps what the schema or its
/// `x-kubernetes-*` extensions allow, defaults land only inside present objects, and
/// validation names each field as kube-apiserver does.
@Suite struct CustomResourceSchemaTests {
    let schema = CustomResourceSchema([
        "type": "object",
        "properties": [
            "spec": [
                "type": "object",
                "properties": [
                    "size": ["x-kubernetes-int-or-string": true],
                    "note": ["type": "string", "nullable": true],
                    "labels": ["type": "object", "additionalProperties": ["type": "string"]],
                    "raw": ["type": "object", "x-kubernetes-preserve-unknown-fields": true],
                    "ports": ["type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                              "items": ["type": "object", "properties": ["name": ["type": "string"], "port": ["type": "integer", "default": 80]]]],
                    "tier": ["type": "object", "properties": ["level": ["type": "string", "default": "gold"]]],
                ],
            ],
        ],
    ])

    @Test func pruningKeepsDeclaredAndPreservedFields() {
        var o: JSONValue = ["apiVersion": "x/v1", "kind": "K", "metadata": ["name": "a"], "extra": 1,
                            "spec": ["size": "10%", "labels": ["a": "b"], "raw": ["anything": ["goes": true]], "unknown": 1,
                                     "ports": [["name": "http", "junk": 1]]]]
        let dropped = schema.prune(&o)
        #expect(Set(dropped) == ["extra", "spec.unknown", "spec.ports[0].junk"])
        #expect(o[path: ["spec", "raw", "anything", "goes"]] == .bool(true))
        #expect(o["metadata"] != nil)
        #expect(o[path: ["spec", "labels", "a"]] == "b")
    }

    @Test func defaultsFillOnlyPresentObjects() {
        var o: JSONValue = ["spec": ["ports": [["name": "http"]]]]
        schema.applyDefaults(&o)
        #expect(o[path: ["spec", "ports"]]?.arrayValue?.first?["port"] == 80)
        #expect(o[path: ["spec", "tier"]] == nil)
        var withTier: JSONValue = ["spec": ["tier": [:]]]
        schema.applyDefaults(&withTier)
        #expect(withTier[path: ["spec", "tier", "level"]] == "gold")
    }

    @Test func validationNamesTheField() {
        let ok: JSONValue = ["spec": ["size": 3, "note": .null, "ports": [["name": "a", "port": 1], ["name": "b", "port": 2]]]]
        #expect(schema.validate(ok).isEmpty)
        let bad: JSONValue = ["spec": ["size": true, "labels": ["a": 1], "ports": [["name": "a"], ["name": "a"]]]]
        let messages = schema.validate(bad).map(\.message)
        #expect(messages.contains { $0.hasPrefix("spec.size: Invalid value") && $0.contains("integer-or-string") })
        #expect(messages.contains { $0.hasPrefix("spec.labels.a: Invalid value") && $0.contains("must be of type string") })
        #expect(messages.contains { $0.hasPrefix("spec.ports[1]: Duplicate value") })
    }

    @Test func typeErrorsShowTheValuesTypeAsKubeAPIServerDoes() {
        let errs = schema.validate(["spec": ["tier": ["level": 5]]])
        #expect(errs.map(\.message) == [#"spec.tier.level: Invalid value: "integer": spec.tier.level in body must be of type string: "integer""#])
    }
}
