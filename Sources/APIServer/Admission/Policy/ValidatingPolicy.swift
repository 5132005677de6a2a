import KubeModel

/// A stored ValidatingAdmissionPolicy, compiled: what it matches, its match conditions,
/// variables and validations as CEL programs. Built once per change of the policies.
struct ValidatingPolicy: Sendable {
    struct Validation: Sendable {
        var expression: CELProgram
        var message: String?
        var messageExpression: CELProgram?
        /// `Unauthorized`, `Forbidden`, `Invalid` (the default) or `RequestEntityTooLarge`.
        var reason: String?
    }

    struct ParamKind: Sendable {
        var group: String
        var version: String
        var kind: String
    }

    var name: String
    var failOpen: Bool
    var match: PolicyMatch
    var matchConditions: [(name: String, program: CELProgram)]
    var variables: [(name: String, program: CELProgram)]
    var validations: [Validation]
    var paramKind: ParamKind?

    /// What a policy's expressions may use. `authorizer` is not offered: it is refused when the
    /// policy is written, as an undeclared reference.
    static let variableNames: Set<String> = ["object", "oldObject", "request", "params", "namespaceObject", "variables"]

    /// Nil when an expression does not compile (such a policy was refused when written).
    init?(_ object: JSONValue) {
        guard let name = object.name, let spec = object["spec"] else { return nil }
        let vars = Self.variableNames
        func compile(_ v: JSONValue?) -> CELProgram? { v?.stringValue.flatMap { try? CELProgram.compile($0, variables: vars) } }
        self.name = name
        failOpen = spec["failurePolicy"]?.stringValue == "Ignore"
        match = PolicyMatch(spec["matchConstraints"])
        var conditions: [(String, CELProgram)] = []
        for c in spec["matchConditions"]?.arrayValue ?? [] {
            guard let p = compile(c["expression"]) else { return nil }
            conditions.append((c["name"]?.stringValue ?? "", p))
        }
        matchConditions = conditions
        var variables: [(String, CELProgram)] = []
        for v in spec["variables"]?.arrayValue ?? [] {
            guard let p = compile(v["expression"]) else { return nil }
            variables.append((v["name"]?.stringValue ?? "", p))
        }
        self.variables = variables
        var validations: [Validation] = []
        for v in spec["validations"]?.arrayValue ?? [] {
            guard let p = compile(v["expression"]) else { return nil }
            validations.append(Validation(expression: p, message: v["message"]?.stringValue,
                                          messageExpression: compile(v["messageExpression"]), reason: v["reason"]?.stringValue))
        }
        self.validations = validations
        if let pk = spec["paramKind"], let apiVersion = pk["apiVersion"]?.stringValue, let kind = pk["kind"]?.stringValue {
            let parts = apiVersion.split(separator: "/").map(String.init)
            paramKind = ParamKind(group: parts.count == 2 ? parts[0] : "", version: parts.last ?? "", kind: kind)
        }
    }
}

/// A stored ValidatingAdmissionPolicyBinding: which policy, with what actions, params and scope.
struct ValidatingPolicyBinding: Sendable {
    var name: String
    var policyName: String
    var deny: Bool
    var warn: Bool
    /// Restricts the policy further; nil matches whatever the policy matches.
    var match: PolicyMatch?
    var paramName: String?
    var paramNamespace: String?
    /// `Deny` (the default) refuses requests when the param is missing; `Allow` skips the binding.
    var denyWithoutParam: Bool

    init?(_ object: JSONValue) {
        guard let name = object.name, let spec = object["spec"], let policy = spec["policyName"]?.stringValue else { return nil }
        self.name = name
        policyName = policy
        let actions = (spec["validationActions"]?.arrayValue ?? []).compactMap(\.stringValue)
        deny = actions.contains("Deny")
        warn = actions.contains("Warn")
        match = spec["matchResources"].map { PolicyMatch($0) }
        paramName = spec[path: ["paramRef", "name"]]?.stringValue
        paramNamespace = spec[path: ["paramRef", "namespace"]]?.stringValue
        denyWithoutParam = spec[path: ["paramRef", "parameterNotFoundAction"]]?.stringValue != "Allow"
    }
}
