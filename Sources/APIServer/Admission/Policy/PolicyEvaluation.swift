import KubeModel

/// One binding of one policy applied to one request: its param, match conditions, variables
/// and validations, and the errors and warnings kube-apiserver words for their failures.
struct PolicyEvaluation {
    let policy: ValidatingPolicy
    let binding: ValidatingPolicyBinding

    struct Failure {
        var error: APIError
        var warning: String
    }

    private var prefix: String { "ValidatingAdmissionPolicy '\(policy.name)' with binding '\(binding.name)'" }

    /// The `params` value: null without a paramKind, the named object otherwise; nil when the
    /// binding is skipped (its param is missing and `parameterNotFoundAction` is Allow).
    func params(_ request: AdmissionRequest, registry: Registry) async throws(APIError) -> CELValue? {
        guard let kind = policy.paramKind else { return .null }
        guard let name = binding.paramName,
              let strategy = registry.catalog.strategies.first(where: {
                  $0.definition.group == kind.group && $0.definition.kind == kind.kind && $0.definition.versions.contains(kind.version)
              }) else {
            return try missingParam("no params found for policy binding with `Deny` parameterNotFoundAction")
        }
        let ns = strategy.definition.namespaced ? (binding.paramNamespace ?? request.namespace) : nil
        do {
            return CELValue(json: try await registry.get(strategy, version: kind.version, namespace: ns, name: name))
        } catch where error.code == 404 {
            return try missingParam("no params found for policy binding with `Deny` parameterNotFoundAction")
        }
    }

    private func missingParam(_ why: String) throws(APIError) -> CELValue? {
        guard binding.denyWithoutParam else { return nil }
        if policy.failOpen { return nil }
        throw APIError(code: 403, reason: "Forbidden", message: "policy '\(policy.name)' with binding '\(binding.name)' denied request: failed to configure binding: \(why)")
    }

    /// The failed validations (empty when the request passes or a match condition excludes it).
    func evaluate(_ base: [String: CELValue]) throws(APIError) -> [Failure] {
        var bindings = base
        for (name, condition) in policy.matchConditions {
            do {
                if try !condition.evaluateBool(bindings) { return [] }
            } catch {
                return try failed("failed to evaluate matchCondition '\(name)': \(error.description)")
            }
        }
        var variables = CELMap()
        bindings["variables"] = .map(variables)
        for (name, program) in policy.variables {
            do {
                variables.insert(.string(name), try program.evaluate(bindings))
                bindings["variables"] = .map(variables)
            } catch {
                return try failed("variable '\(name)' resulted in error: \(error.description)")
            }
        }
        var out: [Failure] = []
        for v in policy.validations {
            let passed: Bool
            do {
                passed = try v.expression.evaluateBool(bindings)
            } catch {
                out += try failed("expression '\(v.expression.source)' resulted in error: \(error.description)")
                continue
            }
            if passed { continue }
            var message = v.message.flatMap { $0.isEmpty ? nil : $0 } ?? "failed expression: \(v.expression.source)"
            if let m = v.messageExpression, case .string(let text)? = try? m.evaluate(bindings), !text.isEmpty, !text.contains("\n") {
                message = text
            }
            out.append(failure(message, reason: v.reason ?? "Invalid"))
        }
        return out
    }

    /// An expression that could not be evaluated: refused under failurePolicy Fail, ignored under Ignore.
    private func failed(_ why: String) throws(APIError) -> [Failure] {
        if policy.failOpen { return [] }
        return [failure(why, reason: "Forbidden")]
    }

    private func failure(_ message: String, reason: String) -> Failure {
        let code: Int
        switch reason {
        case "Unauthorized": code = 401
        case "Forbidden": code = 403
        case "RequestEntityTooLarge": code = 413
        default: code = 422
        }
        return Failure(error: APIError(code: code, reason: reason, message: "\(prefix) denied request: \(message)"),
                       warning: "Validation failed for \(prefix): \(message)")
    }
}
