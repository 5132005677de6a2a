import Foundation
import KubeModel

/// Defaults and validation shared by Validating- and MutatingWebhookConfiguration
/// (admissionregistration.k8s.io/v1): the `webhooks` list, each with its rules, client config,
/// selectors and policies, as Kubernetes' v1 defaulting and validation treat them.
enum WebhookRules {
    typealias K = ResourceKit

    static let operations = ["*", "CREATE", "UPDATE", "DELETE", "CONNECT"]
    static let scopes = ["*", "Cluster", "Namespaced"]
    static let failurePolicies = ["Ignore", "Fail"]
    static let matchPolicies = ["Exact", "Equivalent"]
    static let sideEffects = ["None", "NoneOnDryRun"]
    static let reinvocationPolicies = ["Never", "IfNeeded"]
    static let reviewVersions = ["v1", "v1beta1"]

    static func applyDefaults(to object: inout JSONValue, mutating: Bool) {
        K.eachElement(&object, "webhooks") { hook in
            K.fill(&hook, "failurePolicy", "Fail")
            K.fill(&hook, "matchPolicy", "Equivalent")
            K.fill(&hook, "namespaceSelector", .object([:]))
            K.fill(&hook, "objectSelector", .object([:]))
            K.fill(&hook, "timeoutSeconds", 10)
            if mutating { K.fill(&hook, "reinvocationPolicy", "Never") }
            K.eachElement(&hook, "rules") { K.fill(&$0, "scope", "*") }
            K.withChild(&hook, "clientConfig") { config in
                K.withChild(&config, "service") { K.fill(&$0, "port", 443) }
            }
        }
    }

    static func validate(_ object: JSONValue, mutating: Bool) -> [FieldError] {
        var errs: [FieldError] = []
        var names: Set<String> = []
        for (i, hook) in K.array(object["webhooks"]).enumerated() {
            let path = K.idx("webhooks", i)
            let name = K.string(hook["name"])
            if name.isEmpty {
                errs.append(.required(path + ".name", ""))
            } else {
                errs += fullyQualifiedNameErrors(name, path + ".name")
                if !names.insert(name).inserted { errs.append(.duplicate(path + ".name", FieldError.show(.string(name)))) }
            }
            for (j, rule) in K.array(hook["rules"]).enumerated() {
                errs += validateRule(rule, K.idx(path + ".rules", j))
            }
            errs += K.enumValue(hook["failurePolicy"], path + ".failurePolicy", failurePolicies, required: false)
            errs += K.enumValue(hook["matchPolicy"], path + ".matchPolicy", matchPolicies, required: false)
            errs += K.enumValue(hook["sideEffects"], path + ".sideEffects", sideEffects)
            if mutating {
                errs += K.enumValue(hook["reinvocationPolicy"], path + ".reinvocationPolicy", reinvocationPolicies, required: false)
            }
            if let t = hook["timeoutSeconds"], !t.isNull, !(1...30).contains(t.intValue ?? 0) {
                errs.append(.invalid(path + ".timeoutSeconds", FieldError.show(t), "the timeout value must be between 1 and 30 seconds"))
            }
            errs += validateReviewVersions(hook["admissionReviewVersions"], path + ".admissionReviewVersions")
            errs += validateClientConfig(hook["clientConfig"], path + ".clientConfig")
            errs += K.validateLabelSelector(hook["namespaceSelector"], path + ".namespaceSelector")
            errs += K.validateLabelSelector(hook["objectSelector"], path + ".objectSelector")
            errs += PolicyExpressionRules.named(hook["matchConditions"], path + ".matchConditions",
                                                variables: Webhook.matchConditionVariables)
        }
        return errs
    }

    /// A webhook's name is a DNS subdomain with at least three segments ("pods.example.com").
    static func fullyQualifiedNameErrors(_ name: String, _ path: String) -> [FieldError] {
        let messages = NameValidation.isDNS1123Subdomain(name)
        if !messages.isEmpty { return messages.map { .invalid(path, FieldError.show(.string(name)), $0) } }
        if name.split(separator: ".", omittingEmptySubsequences: false).count < 3 {
            return [.invalid(path, FieldError.show(.string(name)), "should be a domain with at least three segments separated by dots")]
        }
        return []
    }

    static func validateRule(_ rule: JSONValue, _ path: String) -> [FieldError] {
        var errs: [FieldError] = []
        let ops = K.array(rule["operations"]).map { K.string($0) }
        if ops.isEmpty { errs.append(.required(path + ".operations", "")) }
        if ops.count > 1 && ops.contains("*") {
            errs.append(.invalid(path + ".operations", goStrings(ops), "if '*' is present, must not specify other operations"))
        }
        for (k, op) in ops.enumerated() where !operations.contains(op) {
            errs.append(.notSupported(K.idx(path + ".operations", k), FieldError.show(.string(op)), operations))
        }
        for field in ["apiGroups", "apiVersions"] {
            let values = K.array(rule[field]).map { K.string($0) }
            if values.isEmpty { errs.append(.required(path + "." + field, "")) }
            if values.count > 1 && values.contains("*") {
                errs.append(.invalid(path + "." + field, goStrings(values), "if '*' is present, must not specify other \(field)"))
            }
            if field == "apiVersions" {
                for (k, v) in values.enumerated() where v.isEmpty { errs.append(.required(K.idx(path + "." + field, k), "")) }
            }
        }
        let resources = K.array(rule["resources"]).map { K.string($0) }
        if resources.isEmpty { errs.append(.required(path + ".resources", "")) }
        for (k, r) in resources.enumerated() {
            let rp = K.idx(path + ".resources", k)
            if r.isEmpty { errs.append(.required(rp, "")); continue }
            let parts = r.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == "*" && parts.count == 2 && parts[1] != "*" && resources.contains("*/*") {
                errs.append(.invalid(rp, FieldError.show(.string(r)), "if '*/*' is present, must not specify \(r)"))
            }
            if parts.count == 2 && parts[1].isEmpty { errs.append(.invalid(rp, FieldError.show(.string(r)), "must not have an empty subresource")) }
        }
        if resources.contains("*") && resources.count > 1 && !resources.allSatisfy({ $0 == "*" || $0.contains("/") }) {
            errs.append(.invalid(path + ".resources", goStrings(resources), "if '*' is present, must not specify other resources without subresources"))
        }
        errs += K.enumValue(rule["scope"], path + ".scope", scopes, required: false)
        return errs
    }

    static func validateReviewVersions(_ v: JSONValue?, _ path: String) -> [FieldError] {
        let versions = K.array(v).map { K.string($0) }
        if versions.isEmpty { return [.required(path, "must specify one of v1, v1beta1")] }
        var errs: [FieldError] = []
        var seen: Set<String> = []
        for (k, version) in versions.enumerated() where !seen.insert(version).inserted {
            errs.append(.duplicate(K.idx(path, k), FieldError.show(.string(version))))
        }
        if !versions.contains(where: reviewVersions.contains) {
            errs.append(.invalid(path, goStrings(versions), "must include at least one of v1, v1beta1"))
        }
        return errs
    }

    static func validateClientConfig(_ config: JSONValue?, _ path: String) -> [FieldError] {
        let url = config?["url"]?.stringValue
        let service = config?["service"]
        switch (url, service) {
        case (nil, nil), (.some, .some):
            return [.required(path, "exactly one of url or service is required")]
        case (let url?, nil):
            return validateURL(url, path + ".url")
        case (nil, let service?):
            var errs: [FieldError] = []
            if K.string(service["name"]).isEmpty { errs.append(.required(path + ".service.name", "service name is required")) }
            if K.string(service["namespace"]).isEmpty { errs.append(.required(path + ".service.namespace", "service namespace is required")) }
            if let p = service["path"]?.stringValue, !p.isEmpty, !p.hasPrefix("/") {
                errs.append(.invalid(path + ".service.path", FieldError.show(.string(p)), "must start with a '/'"))
            }
            errs += K.inRange(service["port"], path + ".service.port", 1, 65535)
            return errs
        }
    }

    static func validateURL(_ text: String, _ path: String) -> [FieldError] {
        guard let u = URLComponents(string: text) else {
            return [.invalid(path, FieldError.show(.string(text)), "url must be a valid URL")]
        }
        var errs: [FieldError] = []
        if u.scheme != "https" { errs.append(.invalid(path, FieldError.show(.string(text)), "'https' is the only allowed URL scheme")) }
        if (u.host ?? "").isEmpty { errs.append(.invalid(path, FieldError.show(.string(text)), "host must be specified")) }
        if u.user != nil || u.password != nil { errs.append(.invalid(path, FieldError.show(.string(text)), "user information is not permitted in the URL")) }
        if u.fragment != nil { errs.append(.invalid(path, FieldError.show(.string(text)), "fragments are not permitted in the URL")) }
        if u.query != nil { errs.append(.invalid(path, FieldError.show(.string(text)), "query parameters are not permitted in the URL")) }
        return errs
    }

    /// A list shown as kube-apiserver prints it in a message: `[]string{"*", "CREATE"}`.
    static func goStrings(_ list: [String]) -> String {
        "[]string{" + list.map { "\"\($0)\"" }.joined(separator: ", ") + "}"
    }

    static var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Webhooks", type: "integer", description: "Webhooks is a list of webhooks and the affected resources and operations."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    static func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .int(Int64(K.array(object["webhooks"]).count)), .string(TableFormat.age(of: object, now: now))]
    }
}
