import Foundation
import KubeModel

/// Kubernetes' ValidatingAdmissionPolicy plugin: after the mutating phase, every binding whose
/// policy (and own `matchResources`) takes the request evaluates the policy's CEL validations.
/// A failed validation refuses the request under a `Deny` action (with the validation's reason,
/// 422 Invalid by default) and becomes a client warning under `Warn`; `Audit` is accepted and
/// records nothing. An expression error follows the policy's failurePolicy.
public struct ValidatingAdmissionPolicyPlugin: AdmissionPlugin {
    public let name = "ValidatingAdmissionPolicy"
    let configurations: WebhookConfigurations

    public init(configurations: WebhookConfigurations) { self.configurations = configurations }

    public func validate(_ request: inout AdmissionRequest, registry: Registry) async throws(APIError) {
        guard WebhookDispatch.applies(to: request) else { return }
        let snapshot = try await configurations.current(store: registry.store)
        guard !snapshot.bindings.isEmpty else { return }
        var namespace: JSONValue??
        for binding in snapshot.bindings {
            guard let policy = snapshot.policies[binding.policyName],
                  policy.match.matchesRequest(request, requireRules: true),
                  binding.match?.matchesRequest(request, requireRules: false) ?? true else { continue }
            if namespace == nil { namespace = .some(try await Self.namespaceObject(request, registry: registry)) }
            let nsObject = namespace ?? nil
            let labels = Self.namespaceLabels(request, nsObject)
            guard policy.match.matchesNamespace(labels), binding.match?.matchesNamespace(labels) ?? true else { continue }
            let run = PolicyEvaluation(policy: policy, binding: binding)
            guard let params = try await run.params(request, registry: registry) else { continue }
            var bindings = AdmissionActivation.base(request)
            bindings["params"] = params
            bindings["namespaceObject"] = CELValue(json: nsObject ?? .null)
            let failures = try run.evaluate(bindings)
            for failure in failures {
                if binding.deny { throw failure.error }
                if binding.warn { request.warnings.append(failure.warning) }
            }
        }
    }

    /// The request's Namespace object (the written one for a Namespace); nil for cluster-scoped kinds.
    static func namespaceObject(_ request: AdmissionRequest, registry: Registry) async throws(APIError) -> JSONValue? {
        if request.resource.group.isEmpty && request.resource.plural == "namespaces" { return request.object }
        guard request.resource.namespaced, let ns = request.namespace else { return nil }
        do {
            return try await registry.get(registry.namespaces, version: "v1", namespace: nil, name: ns)
        } catch where error.code == 404 {
            return nil
        }
    }

    static func namespaceLabels(_ request: AdmissionRequest, _ ns: JSONValue?) -> [String: String]? {
        if request.resource.group.isEmpty && request.resource.plural == "namespaces" { return request.object.labels }
        guard request.resource.namespaced else { return nil }
        return ns?.labels ?? [:]
    }
}
