import KubeModel

/// The CEL rules (`x-kubernetes-validations`) of a custom resource schema, compiled once per
/// definition and kept as a tree that mirrors the schema, holding only the branches with rules.
/// Every rule runs with `self` bound to its node's value; transition rules (those using
/// `oldSelf`) run on updates where the old value at the same place exists, correlated through
/// object properties, map keys and `x-kubernetes-list-type: map` keys.
struct CustomResourceValidationRules: Sendable {
    final class Node: Sendable {
        let type: String
        let rules: [CustomResourceValidationRule]
        let properties: [String: Node]
        let additionalProperties: Node?
        let items: Node?
        let listMapKeys: [String]?

        init(type: String, rules: [CustomResourceValidationRule], properties: [String: Node], additionalProperties: Node?,
             items: Node?, listMapKeys: [String]?) {
            self.type = type
            self.rules = rules
            self.properties = properties
            self.additionalProperties = additionalProperties
            self.items = items
            self.listMapKeys = listMapKeys
        }
    }

    let root: Node?

    /// Compiles the rules of a stored definition's schema; rules that do not compile (refused when
    /// the definition was written) are left out.
    init(schema: JSONValue) {
        var ignored: [FieldError] = []
        root = Self.build(schema, path: "", errors: &ignored)
    }

    var isEmpty: Bool { root == nil }

    /// The compile errors of a schema's rules, named under `path` (e.g. `spec.validation.openAPIV3Schema`).
    static func compileErrors(schema: JSONValue, path: String) -> [FieldError] {
        var errs: [FieldError] = []
        _ = build(schema, path: path, errors: &errs)
        return errs
    }

    private static func build(_ s: JSONValue, path: String, errors: inout [FieldError]) -> Node? {
        var rules: [CustomResourceValidationRule] = []
        for (i, entry) in (s["x-kubernetes-validations"]?.arrayValue ?? []).enumerated() {
            let compiled = CustomResourceValidationRule.compile(entry, path: "\(path).x-kubernetes-validations[\(i)]")
            if let r = compiled.rule { rules.append(r) }
            errors += compiled.errors
        }
        var properties: [String: Node] = [:]
        for (key, sub) in (s["properties"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let n = build(sub, path: "\(path).properties[\(key)]", errors: &errors) { properties[key] = n }
        }
        let additional = s["additionalProperties"].flatMap { $0.objectValue != nil ? build($0, path: "\(path).additionalProperties", errors: &errors) : nil }
        let items = s["items"].flatMap { $0.objectValue != nil ? build($0, path: "\(path).items", errors: &errors) : nil }
        for (i, sub) in (s["allOf"]?.arrayValue ?? []).enumerated() where sub["x-kubernetes-validations"] != nil {
            errors.append(.forbidden("\(path).allOf[\(i)].x-kubernetes-validations", "x-kubernetes-validations is not supported inside allOf"))
        }
        guard !rules.isEmpty || !properties.isEmpty || additional != nil || items != nil else { return nil }
        let type = s["x-kubernetes-int-or-string"]?.boolValue == true ? "integer-or-string" : (s["type"]?.stringValue ?? "object")
        let mapKeys = s["x-kubernetes-list-type"]?.stringValue == "map"
            ? s["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) : nil
        return Node(type: type, rules: rules, properties: properties, additionalProperties: additional, items: items, listMapKeys: mapKeys)
    }

    /// The failures of every rule on `object` (and `old` on an update), with kube-apiserver's messages.
    func validate(_ object: JSONValue, old: JSONValue?, schema: JSONValue) -> [FieldError] {
        guard let root else { return [] }
        var run = CustomResourceRuleRun()
        run.walk(object, old, root, schema, path: "")
        return run.errors
    }
}
