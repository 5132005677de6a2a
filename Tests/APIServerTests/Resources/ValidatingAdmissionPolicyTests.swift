import Foundation
import Testing
@testable import APIServer
import KubeModel

/// ValidatingAdmissionPolicy's pure parts: the kinds' validation, what a policy and binding
/// match, the CEL variables, and the errors and warnings of failed validations.
@Suite struct ValidatingAdmissionPolicyTests {
    let deployments = DeploymentStrategy().definition

    func request(replicas: Int64, op: AdmissionRequest.Operation = .create, name: String = "web") -> AdmissionRequest {
        let object: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "labels": ["tier": "web"]],
                                 "spec": ["replicas": .int(replicas)]]
        return AdmissionRequest(resource: deployments, namespace: "ns", name: name, object: object,
                                user: UserInfo(name: "alice", uid: "u1", groups: ["devs"]), dryRun: false, operation: op,
                                oldObject: op == .create ? nil : object)
    }

    static let policyJSON: JSONValue = [
        "metadata": ["name": "limit"],
        "spec": [
            "failurePolicy": "Fail",
            "matchConstraints": ["resourceRules": [["apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                                                    "resources": ["deployments"], "scope": "*"]],
                                 "excludeResourceRules": [["apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["*"],
                                                           "resources": ["deployments"], "resourceNames": ["exempt"]]]],
            "matchConditions": [["name": "not-system", "expression": "!request.userInfo.username.startsWith('system:')"]],
            "variables": [["name": "limit", "expression": "5"], ["name": "over", "expression": "object.spec.replicas > variables.limit"]],
            "validations": [
                ["expression": "!variables.over", "messageExpression": "'replicas ' + string(object.spec.replicas) + ' > ' + string(variables.limit)"],
                ["expression": "object.metadata.name.size() < 10", "reason": "Forbidden"],
                ["expression": "object.spec.missing > 0 || request.operation == 'CREATE'"],
            ],
        ],
    ]

    func evaluate(_ r: AdmissionRequest, policy: JSONValue = Self.policyJSON) throws -> [PolicyEvaluation.Failure] {
        let p = try #require(ValidatingPolicy(policy))
        let b = try #require(ValidatingPolicyBinding(["metadata": ["name": "bind"], "spec": ["policyName": "limit", "validationActions": ["Deny"]]]))
        guard p.match.matchesRequest(r, requireRules: true) else { return [] }
        var vars = AdmissionActivation.base(r)
        vars["params"] = .null
        return try PolicyEvaluation(policy: p, binding: b).evaluate(vars)
    }

    @Test func validationsFailWithTheirMessagesAndReasons() throws {
        #expect(try evaluate(request(replicas: 3)).isEmpty)
        let over = try evaluate(request(replicas: 7))
        #expect(over.map(\.error.message) == ["ValidatingAdmissionPolicy 'limit' with binding 'bind' denied request: replicas 7 > 5"])
        #expect(over.first?.error.code == 422)
        #expect(over.first?.warning == "Validation failed for ValidatingAdmissionPolicy 'limit' with binding 'bind': replicas 7 > 5")
        let long = try evaluate(request(replicas: 1, name: "much-too-long"))
        #expect(long.map(\.error.code) == [403])
        #expect(long.first?.error.message.hasSuffix("denied request: failed expression: object.metadata.name.size() < 10") == true)
        // On update the third validation runs into a missing field: an error under failurePolicy Fail.
        let updated = try evaluate(request(replicas: 1, op: .update))
        #expect(updated.first?.error.message.contains("expression 'object.spec.missing > 0 || request.operation == 'CREATE'' resulted in error: no such key: missing") == true)
    }

    @Test func exclusionsAndMatchConditionsSkip() throws {
        #expect(try evaluate(request(replicas: 9, name: "exempt")).isEmpty)
        var system = request(replicas: 9)
        system.user = UserInfo(name: "system:serviceaccount:a:b", uid: "", groups: [])
        #expect(try evaluate(system).isEmpty)
        var ignore = Self.policyJSON
        ignore[path: ["spec", "failurePolicy"]] = "Ignore"
        #expect(try evaluate(request(replicas: 1, op: .update), policy: ignore).isEmpty)
    }

    @Test func requestVariableCarriesTheAdmissionRequest() throws {
        let vars = AdmissionActivation.base(request(replicas: 2, op: .delete))
        let check = try CELProgram.compile(
            "object == null && oldObject.spec.replicas == 2 && request.operation == 'DELETE' && request.userInfo.username == 'alice'"
                + " && request.resource.resource == 'deployments' && request.namespace == 'ns' && !has(request.object)",
            variables: ValidatingPolicy.variableNames)
        #expect(try check.evaluateBool(vars))
    }

    @Test func kindsAreValidated() {
        var bad = Self.policyJSON
        bad[path: ["spec", "validations"]] = [["expression": "object.spec.replicas <"], ["expression": "params.x", "messageExpression": "nope"]]
        bad[path: ["spec", "variables"]] = [["name": "a", "expression": "1"], ["name": "a", "expression": "2"]]
        let errs = ValidatingAdmissionPolicyStrategy().validate(bad).map(\.field)
        #expect(errs == ["spec.validations[0].expression", "spec.validations[1].messageExpression", "spec.variables[1].name"])
        let binding: JSONValue = ["spec": ["policyName": "p", "validationActions": ["Deny", "Warn", "Log"], "paramRef": ["selector": [:]]]]
        let bindingErrors = ValidatingAdmissionPolicyBindingStrategy().validate(binding).map(\.field)
        #expect(bindingErrors == ["spec.validationActions[2]", "spec.validationActions", "spec.paramRef.selector"])
    }

    @Test func webhookMatchConditions() throws {
        let hook = try #require(Webhook(["name": "a.b.c", "clientConfig": ["url": "https://127.0.0.1:1/x"], "failurePolicy": "Ignore",
                                         "matchConditions": [["name": "big", "expression": "object.spec.replicas > 3"]]],
                                        configuration: "cfg"))
        #expect(try WebhookDispatch.matchesConditions(hook, AdmissionActivation.base(request(replicas: 4))))
        #expect(try !WebhookDispatch.matchesConditions(hook, AdmissionActivation.base(request(replicas: 2))))
        // An evaluation error skips the webhook under Ignore.
        #expect(try !WebhookDispatch.matchesConditions(hook, ["object": .map(CELMap())]))
    }
}
