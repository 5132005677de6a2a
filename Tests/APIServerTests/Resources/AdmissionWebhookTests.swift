import Foundation
import Testing
@testable import APIServer
import KubeModel

/// Webhook configurations (defaults, validation, table) and the webhook plugins' pure parts:
/// which requests a webhook's rules and selectors take, the AdmissionReview sent, and how an
/// answer is read (denials, patches, malformed responses).
@Suite struct AdmissionWebhookTests {
    let configMaps = ConfigMapStrategy().definition
    let pods = PodStrategy().definition

    func webhook(_ rules: [JSONValue], objectSelector: JSONValue = [:], matchPolicy: String = "Equivalent") -> Webhook? {
        var hook: JSONValue = ["name": "a.b.c", "rules": .array(rules), "clientConfig": ["url": "https://127.0.0.1:1/x"],
                               "objectSelector": objectSelector, "matchPolicy": .string(matchPolicy)]
        hook["timeoutSeconds"] = 3
        return Webhook(hook, configuration: "cfg")
    }

    func request(_ def: ResourceDefinition, _ op: AdmissionRequest.Operation = .create, subresource: String? = nil,
                 labels: [String: String] = [:]) -> AdmissionRequest {
        let object: JSONValue = ["apiVersion": .string(def.apiVersion(def.storageVersion)), "kind": .string(def.kind),
                                 "metadata": ["name": "x", "labels": .object(labels.mapValues { .string($0) })]]
        return AdmissionRequest(resource: def, namespace: "ns", name: "x", object: object, user: UserInfo(name: "alice", uid: "u1", groups: ["devs"]),
                                dryRun: false, operation: op, oldObject: op == .create ? nil : object, subresource: subresource)
    }

    @Test func defaultsValidationAndTable() {
        let s = ValidatingWebhookConfigurationStrategy()
        var config: JSONValue = ["metadata": ["name": "v", "creationTimestamp": "2026-01-01T00:00:00Z"], "webhooks": [[
            "name": "check.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": ["service": ["namespace": "ns", "name": "svc"]],
            "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
        ]]]
        s.applyDefaults(to: &config)
        let hook = config["webhooks"]?.arrayValue?.first ?? .null
        #expect(hook["failurePolicy"] == "Fail" && hook["matchPolicy"] == "Equivalent" && hook["timeoutSeconds"] == 10)
        #expect(hook[path: ["clientConfig", "service", "port"]] == 443 && hook[path: ["rules"]]?.arrayValue?.first?["scope"] == "*")
        #expect(hook["reinvocationPolicy"] == nil)
        #expect(s.validate(config).isEmpty)
        #expect(s.tableCells(for: config, now: Date(timeIntervalSince1970: 1_767_225_600 + 60)) == ["v", 1, "60s"])
        var m = config
        MutatingWebhookConfigurationStrategy().applyDefaults(to: &m)
        #expect(m["webhooks"]?.arrayValue?.first?["reinvocationPolicy"] == "Never")

        let bad: JSONValue = ["webhooks": [
            ["name": "dup.example.com", "sideEffects": "Some", "admissionReviewVersions": ["v2"], "timeoutSeconds": 31,
             "clientConfig": ["url": "http://user@host/x?q=1"],
             "rules": [["operations": ["*", "CREATE"], "apiGroups": [], "apiVersions": ["v1"], "resources": ["pods"], "scope": "Both"]]],
            ["name": "dup.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
             "clientConfig": ["url": "https://host/x", "service": ["namespace": "ns", "name": "svc"]],
             "matchConditions": [["name": "c", "expression": "true"], ["name": "c", "expression": "object.x +"]]],
            ["name": "short.name", "sideEffects": "None", "admissionReviewVersions": ["v1"], "clientConfig": ["service": ["path": "x"]]],
        ]]
        let messages = s.validate(bad).map(\.message)
        #expect(messages.contains("webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""))
        #expect(messages.contains("webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"))
        #expect(messages.contains("webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1"))
        #expect(messages.contains("webhooks[0].clientConfig.url: Invalid value: \"http://user@host/x?q=1\": 'https' is the only allowed URL scheme"))
        #expect(messages.contains("webhooks[0].clientConfig.url: Invalid value: \"http://user@host/x?q=1\": user information is not permitted in the URL"))
        #expect(messages.contains("webhooks[0].clientConfig.url: Invalid value: \"http://user@host/x?q=1\": query parameters are not permitted in the URL"))
        #expect(messages.contains("webhooks[0].rules[0].operations: Invalid value: []string{\"*\", \"CREATE\"}: if '*' is present, must not specify other operations"))
        #expect(messages.contains("webhooks[0].rules[0].apiGroups: Required value"))
        #expect(messages.contains { $0.hasPrefix("webhooks[0].rules[0].scope: Unsupported value: \"Both\"") })
        #expect(messages.contains("webhooks[1].name: Duplicate value: \"dup.example.com\""))
        #expect(messages.contains("webhooks[1].clientConfig: Required value: exactly one of url or service is required"))
        #expect(messages.contains("webhooks[1].matchConditions[1].name: Duplicate value: \"c\""))
        #expect(messages.contains { $0.hasPrefix("webhooks[1].matchConditions[1].expression: Invalid value: \"object.x +\": compilation failed: ERROR: <input>:1:11: Syntax error") })
        #expect(messages.contains("webhooks[2].name: Invalid value: \"short.name\": should be a domain with at least three segments separated by dots"))
        #expect(messages.contains("webhooks[2].clientConfig.service.name: Required value: service name is required"))
        #expect(messages.contains("webhooks[2].clientConfig.service.path: Invalid value: \"x\": must start with a '/'"))
    }

    @Test func rulesMatchOperationsResourcesSubresourcesAndScope() throws {
        let rule: JSONValue = ["operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"]
        let hook = try #require(webhook([rule]))
        #expect(hook.matchesRules(request(pods)))
        #expect(!hook.matchesRules(request(pods, .delete)))
        #expect(!hook.matchesRules(request(pods, .update, subresource: "status")))
        #expect(!hook.matchesRules(request(configMaps)))

        #expect(Webhook.resource("*", matches: "pods", subresource: nil))
        #expect(!Webhook.resource("*", matches: "pods", subresource: "status"))
        #expect(Webhook.resource("*/*", matches: "pods", subresource: nil))
        #expect(Webhook.resource("*/*", matches: "pods", subresource: "status"))
        #expect(Webhook.resource("pods/*", matches: "pods", subresource: "log"))
        #expect(!Webhook.resource("pods/*", matches: "pods", subresource: nil))
        #expect(Webhook.resource("*/status", matches: "deployments", subresource: "status"))
        #expect(!Webhook.resource("*/status", matches: "deployments", subresource: "scale"))
        #expect(Webhook.resource("pods/status", matches: "pods", subresource: "status"))

        let cluster = try #require(webhook([["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "scope": "Cluster"]]))
        #expect(!cluster.matchesRules(request(pods)))
        #expect(cluster.matchesRules(request(NodeStrategy().definition)))
        let exact = try #require(webhook([["operations": ["*"], "apiGroups": ["autoscaling"], "apiVersions": ["v1"], "resources": ["*"], "scope": "*"]],
                                         matchPolicy: "Exact"))
        let equivalent = try #require(webhook([["operations": ["*"], "apiGroups": ["autoscaling"], "apiVersions": ["v1"], "resources": ["*"], "scope": "*"]]))
        let hpa = HorizontalPodAutoscalerStrategy().definition
        #expect(equivalent.matchesRules(request(hpa)) == hpa.versions.contains("v1"))
        #expect(exact.matchesRules(request(hpa)) == (hpa.storageVersion == "v1"))
    }

    @Test func objectSelectorReadsNewOrOldLabels() throws {
        let selector: JSONValue = ["matchLabels": ["team": "a"]]
        let hook = try #require(webhook([["operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "scope": "*"]],
                                        objectSelector: selector))
        #expect(hook.matchesObject(request(configMaps, labels: ["team": "a"])))
        #expect(!hook.matchesObject(request(configMaps, labels: ["team": "b"])))
        var update = request(configMaps, .update, labels: ["team": "b"])
        update.oldObject = request(configMaps, labels: ["team": "a"]).object
        #expect(hook.matchesObject(update))
        #expect(hook.matchesObject(request(configMaps, .delete, labels: ["team": "a"])))
    }

    @Test func reviewCarriesTheRequestAndVerdictsAreRead() throws {
        let review = AdmissionReview.request(request(configMaps, .delete), uid: "u-1")
        #expect(review["kind"] == "AdmissionReview" && review["apiVersion"] == "admission.k8s.io/v1")
        let req = review["request"] ?? .null
        #expect(req["operation"] == "DELETE" && req["object"] == nil && req[path: ["oldObject", "metadata", "name"]] == "x")
        #expect(req["resource"] == ["group": "", "version": "v1", "resource": "configmaps"])
        #expect(req["userInfo"] == ["username": "alice", "uid": "u1", "groups": ["devs"]])
        #expect(req[path: ["options", "kind"]] == "DeleteOptions")

        let patch = Data(#"[{"op":"add","path":"/data","value":{"k":"v"}}]"#.utf8).base64EncodedString()
        let answer: JSONValue = ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                                 "response": ["uid": "u-1", "allowed": true, "patchType": "JSONPatch", "patch": .string(patch), "warnings": ["w"]]]
        let verdict = try AdmissionReview.verdict(answer, uid: "u-1", mutating: true)
        #expect(verdict.allowed && verdict.warnings == ["w"] && verdict.patch?.arrayValue?.count == 1)
        #expect(throws: AdmissionReview.Malformed.self) { try AdmissionReview.verdict(answer, uid: "u-1", mutating: false) }
        #expect(throws: AdmissionReview.Malformed.self) { try AdmissionReview.verdict(answer, uid: "other", mutating: true) }
        #expect(throws: AdmissionReview.Malformed.self) { try AdmissionReview.verdict(["apiVersion": "v1", "kind": "Status"], uid: "u-1", mutating: true) }
        var wrongType = answer
        wrongType[path: ["response", "patchType"]] = "merge"
        #expect(throws: AdmissionReview.Malformed.self) { try AdmissionReview.verdict(wrongType, uid: "u-1", mutating: true) }

        let hook = try #require(webhook([]))
        let denied = AdmissionReview.denial(hook, status: ["message": "no", "code": 200])
        #expect(denied.code == 400 && denied.message == "admission webhook \"a.b.c\" denied the request: no")
        let forbidden = AdmissionReview.denial(hook, status: ["reason": "Forbidden", "code": 403])
        #expect(forbidden.code == 403 && forbidden.reason == "Forbidden" && forbidden.message.hasSuffix("denied the request: Forbidden"))
        #expect(AdmissionReview.denial(hook, status: nil).message == "admission webhook \"a.b.c\" denied the request without explanation")
        let failed = AdmissionReview.callFailure(hook, "boom")
        #expect(failed.code == 500 && failed.message == "Internal error occurred: failed calling webhook \"a.b.c\": boom")
    }

    @Test func serviceURLsCarryTheTimeout() throws {
        var hook = try #require(webhook([]))
        #expect(hook.url(authority: "") == "https://127.0.0.1:1/x?timeout=3s")
        hook.endpoint = .service(namespace: "ns", name: "svc", port: 443, path: "/validate")
        #expect(hook.url(authority: "svc.ns.svc:8443") == "https://svc.ns.svc:8443/validate?timeout=3s")
    }
}
