import Foundation
import KubeModel

/// One `rbac/v1` PolicyRule.
public struct PolicyRule: Sendable, Equatable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    /// A rule from its parts.
    public init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
                nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// A rule read from its JSON form; absent lists are empty.
    public init(json: JSONValue) {
        func list(_ k: String) -> [String] { (json[k]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(verbs: list("verbs"), apiGroups: list("apiGroups"), resources: list("resources"),
                  resourceNames: list("resourceNames"), nonResourceURLs: list("nonResourceURLs"))
    }

    /// The JSON form, omitting empty lists as Kubernetes does.
    public var json: JSONValue {
        var o: JSONValue = ["verbs": .array(verbs.map { .string($0) })]
        for (k, v) in [("apiGroups", apiGroups), ("resources", resources), ("resourceNames", resourceNames),
                       ("nonResourceURLs", nonResourceURLs)] where !v.isEmpty {
            o[k] = .array(v.map { .string($0) })
        }
        return o
    }

    /// `RuleAllows` of Kubernetes' RBAC authorizer.
    public func allows(_ a: RequestAttributes) -> Bool {
        guard verbs.contains("*") || verbs.contains(a.verb) else { return false }
        if !a.isResourceRequest { return nonResourceURLs.contains { Self.pathMatches($0, a.path) } }
        guard apiGroups.contains("*") || apiGroups.contains(a.apiGroup) else { return false }
        guard resourceMatches(a) else { return false }
        return resourceNames.isEmpty || (!a.name.isEmpty && resourceNames.contains(a.name))
    }

    /// `*`, the exact `resource[/subresource]`, or `*/subresource`.
    func resourceMatches(_ a: RequestAttributes) -> Bool {
        let combined = a.resourceWithSubresource
        return resources.contains { r in
            r == "*" || r == combined || (!a.subresource.isEmpty && r == "*/\(a.subresource)")
        }
    }

    /// `*`, the exact path, or a prefix ending in `*`.
    static func pathMatches(_ rule: String, _ path: String) -> Bool {
        if rule == "*" || rule == path { return true }
        return rule.hasSuffix("*") && path.hasPrefix(String(rule.dropLast()))
    }
}

/// A point-in-time view of every Role, ClusterRole, RoleBinding and ClusterRoleBinding,
/// evaluated as Kubernetes' RBAC authorizer: allow if any binding that applies to the user
/// grants a rule that matches; deny otherwise. Group `system:masters` is always allowed.
public struct RBACPolicy: Sendable {
    struct Binding: Sendable {
        var name: String
        /// "" for a ClusterRoleBinding.
        var namespace: String
        var roleKind: String
        var roleName: String
        var subjects: [JSONValue]
    }

    /// Effective rules of each ClusterRole, aggregation resolved.
    let clusterRoleRules: [String: [PolicyRule]]
    /// Rules of each Role, keyed `namespace/name`.
    let roleRules: [String: [PolicyRule]]
    let clusterBindings: [Binding]
    let namespacedBindings: [String: [Binding]]

    /// Builds the policy from the stored objects.
    public init(roles: [JSONValue], clusterRoles: [JSONValue], roleBindings: [JSONValue], clusterRoleBindings: [JSONValue]) {
        var rr: [String: [PolicyRule]] = [:]
        for r in roles {
            rr["\(r.namespace ?? "")/\(r.name ?? "")"] = (r["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
        }
        roleRules = rr
        clusterRoleRules = Self.aggregate(clusterRoles)
        func binding(_ b: JSONValue) -> Binding {
            Binding(name: b.name ?? "", namespace: b.namespace ?? "", roleKind: b[path: ["roleRef", "kind"]]?.stringValue ?? "",
                    roleName: b[path: ["roleRef", "name"]]?.stringValue ?? "", subjects: b["subjects"]?.arrayValue ?? [])
        }
        clusterBindings = clusterRoleBindings.map(binding)
        var nb: [String: [Binding]] = [:]
        for b in roleBindings.map(binding) { nb[b.namespace, default: []].append(b) }
        namespacedBindings = nb
    }

    /// Each ClusterRole's own rules plus, transitively, those of the ClusterRoles its
    /// aggregationRule selects: the rules Kubernetes' aggregation controller would write.
    static func aggregate(_ clusterRoles: [JSONValue]) -> [String: [PolicyRule]] {
        var own: [String: [PolicyRule]] = [:]
        var labels: [String: [String: String]] = [:]
        var selectors: [String: [JSONValue]] = [:]
        for c in clusterRoles {
            guard let name = c.name else { continue }
            own[name] = (c["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
            labels[name] = ResourceKit.stringMap(c[path: ["metadata", "labels"]])
            if let s = c[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue { selectors[name] = s }
        }
        func effective(_ name: String, _ visiting: Set<String>) -> [PolicyRule] {
            var rules = own[name] ?? []
            guard let sels = selectors[name] else { return rules }
            for other in own.keys.sorted() where other != name && !visiting.contains(other) {
                let l = labels[other] ?? [:]
                // An empty selector would select everything; Kubernetes skips it the same way.
                guard sels.contains(where: { !ResourceKit.selectorIsEmpty($0) && (try? LabelSelector.fromJSON($0))?.matches(l) == true }) else { continue }
                for r in effective(other, visiting.union([name])) where !rules.contains(r) { rules.append(r) }
            }
            return rules
        }
        var out: [String: [PolicyRule]] = [:]
        for name in own.keys { out[name] = effective(name, [name]) }
        return out
    }

    /// Whether a binding subject names the user: a User, one of its Groups, or its ServiceAccount.
    static func subjectMatches(_ s: JSONValue, user: UserInfo, bindingNamespace: String) -> Bool {
        let name = s["name"]?.stringValue ?? ""
        switch s["kind"]?.stringValue {
        case "User": return name == user.name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let ns = s["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? bindingNamespace
            return user.name == "system:serviceaccount:\(ns):\(name)"
        default: return false
        }
    }

    func rules(of b: Binding) -> [PolicyRule] {
        b.roleKind == "ClusterRole" ? clusterRoleRules[b.roleName] ?? [] : roleRules["\(b.namespace)/\(b.roleName)"] ?? []
    }

    /// Every rule granted to `user` in `namespace` ("" for cluster-wide grants only).
    public func rules(for user: UserInfo, namespace: String) -> [PolicyRule] {
        let scoped = namespace.isEmpty ? [] : namespacedBindings[namespace] ?? []
        return (clusterBindings + scoped).filter { b in
            b.subjects.contains { Self.subjectMatches($0, user: user, bindingNamespace: b.namespace) }
        }.flatMap { rules(of: $0) }
    }

    /// The rules of a role a binding may reference: `Role` in `namespace`, or a `ClusterRole`.
    public func rules(ofRole kind: String, name: String, namespace: String) -> [PolicyRule] {
        kind == "ClusterRole" ? clusterRoleRules[name] ?? [] : roleRules["\(namespace)/\(name)"] ?? []
    }

    /// The decision for `a`, with a reason naming the binding that allowed it.
    public func authorize(_ a: RequestAttributes) -> AuthorizationDecision {
        if a.user.groups.contains("system:masters") {
            return AuthorizationDecision(allowed: true, reason: "member of group \"system:masters\"")
        }
        let scoped = a.isResourceRequest && !a.namespace.isEmpty ? namespacedBindings[a.namespace] ?? [] : []
        for b in clusterBindings + scoped {
            guard let subject = b.subjects.first(where: { Self.subjectMatches($0, user: a.user, bindingNamespace: b.namespace) }),
                  rules(of: b).contains(where: { $0.allows(a) }) else { continue }
            let kind = b.namespace.isEmpty ? "ClusterRoleBinding" : "RoleBinding"
            let at = b.namespace.isEmpty ? "" : " of \(b.roleKind) \"\(b.roleName)\" in namespace \"\(b.namespace)\""
            let role = b.namespace.isEmpty ? " of ClusterRole \"\(b.roleName)\"" : at
            return AuthorizationDecision(allowed: true, reason: "RBAC: allowed by \(kind) \"\(b.name)\"\(role) to \(subject["kind"]?.stringValue ?? "") \"\(subject["name"]?.stringValue ?? "")\"")
        }
        return AuthorizationDecision(allowed: false)
    }
}
