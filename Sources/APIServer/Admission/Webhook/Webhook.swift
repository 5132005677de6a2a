import Foundation
import KubeModel

/// One webhook of a Validating- or MutatingWebhookConfiguration, read once per change of the
/// configurations: which requests it wants (rules, scope, selectors) and how to reach it.
struct Webhook: Sendable {
    struct Rule: Sendable {
        var operations: [String]
        var groups: [String]
        var versions: [String]
        var resources: [String]
        var scope: String
    }

    enum Endpoint: Sendable, Equatable {
        case url(String)
        /// A Service of the cluster: `https://name.namespace.svc:port/path`.
        case service(namespace: String, name: String, port: Int, path: String)
    }

    var name: String
    var configuration: String
    var rules: [Rule]
    var failOpen: Bool
    var exactMatch: Bool
    var namespaceSelector: LabelSelector?
    var objectSelector: LabelSelector?
    var timeoutSeconds: Int
    var reinvokeIfNeeded: Bool
    var endpoint: Endpoint
    /// PEM trust roots for the webhook's serving certificate; nil trusts the system roots.
    var caBundle: String?
    /// CEL conditions that must all hold for the webhook to be called, in order.
    var matchConditions: [(name: String, program: CELProgram)]

    /// What match conditions may use. `authorizer` is not offered (refused as undeclared).
    static let matchConditionVariables: Set<String> = ["object", "oldObject", "request"]

    /// Reads a stored (defaulted, validated) webhook; nil for one the server could not call.
    init?(_ hook: JSONValue, configuration: String) {
        guard let name = hook["name"]?.stringValue else { return nil }
        self.name = name
        self.configuration = configuration
        rules = (hook["rules"]?.arrayValue ?? []).map { r in
            let list = { (key: String) in (r[key]?.arrayValue ?? []).compactMap(\.stringValue) }
            return Rule(operations: list("operations"), groups: list("apiGroups"), versions: list("apiVersions"),
                        resources: list("resources"), scope: r["scope"]?.stringValue ?? "*")
        }
        failOpen = hook["failurePolicy"]?.stringValue == "Ignore"
        exactMatch = hook["matchPolicy"]?.stringValue == "Exact"
        namespaceSelector = Self.selector(hook["namespaceSelector"])
        objectSelector = Self.selector(hook["objectSelector"])
        timeoutSeconds = Int(hook["timeoutSeconds"]?.intValue ?? 10)
        reinvokeIfNeeded = hook["reinvocationPolicy"]?.stringValue == "IfNeeded"
        let config = hook["clientConfig"] ?? .object([:])
        if let url = config["url"]?.stringValue {
            endpoint = .url(url)
        } else if let s = config["service"], let ns = s["namespace"]?.stringValue, let svc = s["name"]?.stringValue {
            endpoint = .service(namespace: ns, name: svc, port: Int(s["port"]?.intValue ?? 443), path: s["path"]?.stringValue ?? "")
        } else {
            return nil
        }
        caBundle = config["caBundle"]?.stringValue.flatMap { Data(base64Encoded: $0) }.flatMap { String(data: $0, encoding: .utf8) }
        var conditions: [(String, CELProgram)] = []
        for c in hook["matchConditions"]?.arrayValue ?? [] {
            // Stored configurations compiled when written; one that no longer does is not called.
            guard let source = c["expression"]?.stringValue,
                  let program = try? CELProgram.compile(source, variables: Self.matchConditionVariables) else { return nil }
            conditions.append((c["name"]?.stringValue ?? "", program))
        }
        matchConditions = conditions
    }

    /// nil for an empty selector (it selects everything, no lookup needed).
    static func selector(_ v: JSONValue?) -> LabelSelector? {
        guard let v, !ResourceKit.selectorIsEmpty(v) else { return nil }
        return try? LabelSelector.fromJSON(v)
    }

    /// Whether a rule names this request's operation, group, version, resource and scope.
    func matchesRules(_ request: AdmissionRequest) -> Bool {
        let def = request.resource
        return rules.contains { rule in
            (rule.operations.contains("*") || rule.operations.contains(request.operation.rawValue))
                && (rule.groups.contains("*") || rule.groups.contains(def.group))
                && (rule.versions.contains("*") || (exactMatch ? rule.versions.contains(def.storageVersion)
                                                                : def.versions.contains(where: rule.versions.contains)))
                && rule.resources.contains { Self.resource($0, matches: def.plural, subresource: request.subresource) }
                && (rule.scope == "*" || (rule.scope == "Namespaced") == def.namespaced)
        }
    }

    /// `*/*` everything; `*` every resource but no subresource; `pods/*` every subresource of
    /// pods; `*/status` the status of every resource; otherwise the exact `pods` or `pods/log`.
    static func resource(_ pattern: String, matches plural: String, subresource: String?) -> Bool {
        if pattern == "*/*" { return true }
        let parts = pattern.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let (res, sub) = (parts[0], parts.count > 1 ? parts[1] : nil)
        guard res == "*" || res == plural else { return false }
        switch (sub, subresource) {
        case (nil, nil): return true
        case ("*"?, _?): return true
        case (let s?, let r?): return s == r
        default: return false
        }
    }

    /// The object selector matches the new object's labels or the old one's.
    func matchesObject(_ request: AdmissionRequest) -> Bool {
        guard let objectSelector else { return true }
        if request.operation != .delete, objectSelector.matches(request.object.labels) { return true }
        let old = request.operation == .delete ? request.object : request.oldObject
        return old.map { objectSelector.matches($0.labels) } ?? false
    }

    /// The URL the review is posted to, with the timeout the server waits, as kube-apiserver adds.
    /// For a Service, `authority` is its DNS name with the endpoint's port.
    func url(authority: String) -> String {
        switch endpoint {
        case .url(let u):
            return u + (u.contains("?") ? "&" : "?") + "timeout=\(timeoutSeconds)s"
        case .service(_, _, _, let path):
            return "https://\(authority)\(path)?timeout=\(timeoutSeconds)s"
        }
    }
}
