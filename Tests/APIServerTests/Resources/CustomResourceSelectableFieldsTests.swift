import KubeModel
import Testing

@testable import APIServer

/// `selectableFields` of a CustomResourceDefinition version: checked against the schema as
/// kube-apiserver does, and giving field selectors the values of custom resources.
@Suite struct CustomResourceSelectableFieldsTests {
    static let schema: JSONValue = [
        "type": "object",
        "properties": [
            "spec": [
                "type": "object",
                "properties": [
                    "color": ["type": "string", "enum": ["blue", "green"]],
                    "size": ["type": "integer"],
                    "enabled": ["type": "boolean"],
                    "ratio": ["type": "number"],
                    "tags": ["type": "array", "items": ["type": "string"]],
                    "nested": ["type": "object", "properties": ["zone": ["type": "string", "format": "hostname"]]],
                    "quantity": ["x-kubernetes-int-or-string": true],
                ],
            ],
        ],
    ]

    static func fields(_ paths: [String]) -> [JSONValue] { paths.map { ["jsonPath": .string($0)] } }

    func messages(_ paths: [String]) -> [String] {
        CustomResourceSelectableFields.validate(Self.fields(paths), schema: Self.schema, path: "spec.versions[0].selectableFields")
            .map(\.message)
    }

    @Test func scalarFieldsOfTheSchemaAreAccepted() {
        #expect(messages([".spec.color", ".spec.size", ".spec.enabled", ".spec.nested.zone"]).isEmpty)
    }

    @Test func nonScalarMissingMetadataAndMalformedPathsAreRefused() {
        let p = "spec.versions[0].selectableFields"
        #expect(messages([".spec.ratio"]) == [#"\#(p)[0].jsonPath: Invalid value: ".spec.ratio": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."#])
        #expect(messages([".spec.tags"]).count == 1)
        #expect(messages([".spec.quantity"]).count == 1)
        #expect(messages([".spec.missing"]) == [#"\#(p)[0].jsonPath: Invalid value: ".spec.missing": is an invalid path: does not refer to a valid field"#])
        #expect(messages([".spec.tags[0]"]).first?.contains("is an invalid path") == true)
        #expect(messages(["spec.color"]).first?.contains("is an invalid path") == true)
        #expect(messages([".metadata.name"]) == [#"\#(p)[0].jsonPath: Invalid value: ".metadata.name": must not point to fields in metadata"#])
        #expect(CustomResourceSelectableFields.validate([[:]], schema: Self.schema, path: p).map(\.message) == ["\(p)[0].jsonPath: Required value"])
    }

    @Test func duplicatesAndMoreThanEightAreRefused() {
        let p = "spec.versions[0].selectableFields"
        #expect(messages([".spec.color", ".spec.size", ".spec.color"]) == [#"\#(p)[2].jsonPath: Duplicate value: ".spec.color""#])
        let many: JSONValue = [
            "type": "object",
            "properties": ["spec": ["type": "object", "properties": .object(Dictionary(uniqueKeysWithValues: (0..<9).map { ("f\($0)", ["type": "string"] as JSONValue) }))]],
        ]
        let errs = CustomResourceSelectableFields.validate(Self.fields((0..<9).map { ".spec.f\($0)" }), schema: many, path: p)
        #expect(errs.map(\.message) == ["\(p): Too many: 9: must have at most 8 items"])
    }

    @Test func valuesAreTextAndEmptyWhenAbsent() {
        let selectable = CustomResourceSelectableFields(version: ["selectableFields": .array(Self.fields([".spec.color", ".spec.size", ".spec.enabled"]))])
        let object: JSONValue = ["spec": ["color": "blue", "size": 3, "enabled": false]]
        #expect(selectable.value("spec.color", of: object) == .some("blue"))
        #expect(selectable.value("spec.size", of: object) == .some("3"))
        #expect(selectable.value("spec.enabled", of: object) == .some("false"))
        #expect(selectable.value("spec.color", of: ["spec": [:]]) == .some(""))
        #expect(selectable.value("spec.other", of: object) == nil)
    }

    @Test func theDefinitionRefusesBadSelectableFieldsAndTheStrategySelects() throws {
        var version: JSONValue = ["name": "v1", "served": true, "storage": true,
                                  "schema": ["openAPIV3Schema": Self.schema],
                                  "selectableFields": .array(Self.fields([".spec.color", ".spec.ratio"]))]
        let crd: (JSONValue) -> JSONValue = { v in
            ["apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "widgets.example.com"],
             "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "widgets", "kind": "Widget"], "versions": [v]]]
        }
        let errs = CustomResourceDefinitionStrategy().validate(crd(version)).map(\.message)
        #expect(errs == [#"spec.versions[0].selectableFields[1].jsonPath: Invalid value: ".spec.ratio": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."#])

        version["selectableFields"] = .array(Self.fields([".spec.color"]))
        #expect(CustomResourceDefinitionStrategy().validate(crd(version)).isEmpty)
        let strategy = try #require(CustomResourceStrategy(crd: crd(version)))
        let options = try ListOptions(query: QueryParameters("fieldSelector=spec.color%3Dblue"), strategy: strategy)
        #expect(options.matches(["metadata": ["name": "a"], "spec": ["color": "blue"]], strategy: strategy))
        #expect(!options.matches(["metadata": ["name": "b"], "spec": ["color": "green"]], strategy: strategy))
        #expect(throws: APIError.self) { try ListOptions(query: QueryParameters("fieldSelector=spec.size%3D1"), strategy: strategy) }
    }
}
