import KubeModel

/// `matchConstraints` of a policy or `matchResources` of a binding: resource rules (with
/// resource names), exclusions, and namespace and object selectors.
struct PolicyMatch: Sendable {
    struct Rule: Sendable {
        var operations: [String]
        var groups: [String]
        var versions: [String]
        var resources: [String]
        var scope: String
        var names: [String]

        init(_ r: JSONValue) {
            let list = { (key: String) in (r[key]?.arrayValue ?? []).compactMap(\.stringValue) }
            operations = list("operations")
            groups = list("apiGroups")
            versions = list("apiVersions")
            resources = list("resources")
            scope = r["scope"]?.stringValue ?? "*"
            names = list("resourceNames")
        }

        func matches(_ request: AdmissionRequest) -> Bool {
            let def = request.resource
            return (operations.contains("*") || operations.contains(request.operation.rawValue))
                && (groups.contains("*") || groups.contains(def.group))
                && (versions.contains("*") || def.versions.contains(where: versions.contains))
                && resources.contains { Webhook.resource($0, matches: def.plural, subresource: request.subresource) }
                && (scope == "*" || (scope == "Namespaced") == def.namespaced)
                && (names.isEmpty || names.contains(request.name))
        }
    }

    var rules: [Rule]
    var excluded: [Rule]
    var namespaceSelector: LabelSelector?
    var objectSelector: LabelSelector?

    init(_ m: JSONValue?) {
        rules = (m?["resourceRules"]?.arrayValue ?? []).map(Rule.init)
        excluded = (m?["excludeResourceRules"]?.arrayValue ?? []).map(Rule.init)
        namespaceSelector = Webhook.selector(m?["namespaceSelector"])
        objectSelector = Webhook.selector(m?["objectSelector"])
    }

    /// Rules, exclusions and the object selector; the namespace selector is `matchesNamespace`.
    /// A binding's match without rules takes every resource its policy takes.
    func matchesRequest(_ request: AdmissionRequest, requireRules: Bool) -> Bool {
        if requireRules || !rules.isEmpty {
            guard rules.contains(where: { $0.matches(request) }) else { return false }
        }
        if excluded.contains(where: { $0.matches(request) }) { return false }
        guard let objectSelector else { return true }
        if request.operation != .delete, objectSelector.matches(request.object.labels) { return true }
        let old = request.operation == .delete ? request.object : request.oldObject
        return old.map { objectSelector.matches($0.labels) } ?? false
    }

    /// Labels are those of the request's namespace; nil (cluster-scoped kinds) always matches.
    func matchesNamespace(_ labels: [String: String]?) -> Bool {
        guard let namespaceSelector, let labels else { return true }
        return namespaceSelector.matches(labels)
    }
}
