import KubeModel

/// Checks shared by admission policies, their bindings and webhooks' match conditions: CEL
/// expressions compile against the admission variables, named lists are unique, selectors valid.
enum PolicyExpressionRules {
    typealias K = ResourceKit

    /// Compile errors of one expression, worded as kube-apiserver's.
    static func compile(_ v: JSONValue?, _ path: String, required: Bool,
                        variables: Set<String> = ValidatingPolicy.variableNames) -> [FieldError] {
        let source = K.string(v)
        if source.isEmpty { return required ? [.required(path, "")] : [] }
        do {
            _ = try CELProgram.compile(source, variables: variables)
            return []
        } catch {
            return [.invalid(path, FieldError.show(.string(source)), "compilation failed: \(error.description)")]
        }
    }

    /// `variables` and `matchConditions`: a unique name each and an expression that compiles.
    static func named(_ list: JSONValue?, _ path: String, variables: Set<String> = ValidatingPolicy.variableNames,
                      limit: Int = 64) -> [FieldError] {
        var errs: [FieldError] = []
        var names: Set<String> = []
        let items = K.array(list)
        if items.count > limit { errs.append(FieldError(.tooMany, path, value: String(items.count), "must have at most \(limit) items")) }
        for (i, item) in items.enumerated() {
            let p = K.idx(path, i)
            let name = K.string(item["name"])
            if name.isEmpty { errs.append(.required("\(p).name", "")) } else if !names.insert(name).inserted {
                errs.append(.duplicate("\(p).name", FieldError.show(.string(name))))
            }
            errs += compile(item["expression"], "\(p).expression", required: true, variables: variables)
        }
        return errs
    }

    /// Resource rules, selectors, and the parts of `matchResources` not served here.
    static func matchResources(_ m: JSONValue?, _ path: String) -> [FieldError] {
        guard let m, !m.isNull else { return [] }
        var errs: [FieldError] = []
        for key in ["resourceRules", "excludeResourceRules"] {
            for (i, r) in K.array(m[key]).enumerated() {
                let p = K.idx("\(path).\(key)", i)
                errs += WebhookRules.validateRule(r, p)
            }
        }
        errs += K.validateLabelSelector(m["namespaceSelector"], path + ".namespaceSelector")
        errs += K.validateLabelSelector(m["objectSelector"], path + ".objectSelector")
        errs += K.enumValue(m["matchPolicy"], path + ".matchPolicy", WebhookRules.matchPolicies, required: false)
        return errs
    }
}
