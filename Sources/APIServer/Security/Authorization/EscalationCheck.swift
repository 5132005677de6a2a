import Foundation
import Hummingbird
import KubeModel

/// RBAC's privilege-escalation prevention, as Kubernetes: a user may create or change a Role
/// or ClusterRole only with rules they already hold (or the `escalate` verb on it), and bind a
/// role only when they hold its rules (or the `bind` verb on it). Otherwise a namespace admin
/// could grant themselves, or anyone, more than they have.
enum EscalationCheck {
    static let group = "rbac.authorization.k8s.io"

    /// Checks a write to an RBAC object; returns the request to go on with (its body buffered,
    /// since it was read here). Other requests pass through untouched.
    static func check(_ request: Request, info: RequestInfo, query: QueryParameters, strategy: any ResourceStrategy, registry: Registry,
                      user: UserInfo, authorizer: any Authorizer) async throws -> Request {
        guard info.group == group, info.subresource == nil, [.post, .put, .patch].contains(request.method),
              ["roles", "clusterroles", "rolebindings", "clusterrolebindings"].contains(info.resource),
              !user.groups.contains("system:masters"), let rbac = authorizer.rbacAuthorizer else { return request }
        let endpoint = ResourceEndpoint(registry: registry, strategy: strategy, info: info, query: query, request: request)
        var buffered = request
        let bytes = try await endpoint.rawBody()
        buffered.body = .init(buffer: bytes)
        let reread = ResourceEndpoint(registry: registry, strategy: strategy, info: info, query: endpoint.query, request: buffered)
        let namespace = info.namespace ?? ""
        let old: JSONValue? = if let name = info.name {
            try? await registry.get(strategy, version: info.version, namespace: info.namespace, name: name)
        } else { nil }
        // The object as it would be after the write.
        var new: JSONValue
        if request.method == .patch {
            let (patch, type) = try await reread.patchBody()
            if type == .apply {
                new = patch  // rules and roleRef are atomic lists/structs: the applied config's are the result's
            } else {
                new = (try? Registry.applyPatch(patch, type: type, to: old ?? .object([:]), typeName: strategy.definition.schemaNames[info.version])) ?? old ?? .object([:])
            }
        } else {
            new = try await reread.body()
        }
        let policy = try await rbac.policy()
        let held = policy.rules(for: user, namespace: namespace)
        let isBinding = info.resource.hasSuffix("bindings")
        let granted: [PolicyRule]
        let override: RequestAttributes
        if isBinding {
            // roleRef is immutable: an update or patch binds the stored role.
            let ref = old?["roleRef"] ?? new["roleRef"] ?? .object([:])
            let kind = ref["kind"]?.stringValue ?? "", roleName = ref["name"]?.stringValue ?? ""
            granted = policy.rules(ofRole: kind, name: roleName, namespace: namespace)
            override = RequestAttributes(user: user, verb: "bind", apiGroup: group, resource: kind == "Role" ? "roles" : "clusterroles",
                                         namespace: namespace, name: roleName)
        } else {
            granted = (new["rules"]?.arrayValue ?? []).map(PolicyRule.init(json:))
            override = RequestAttributes(user: user, verb: "escalate", apiGroup: group, resource: info.resource,
                                         namespace: namespace, name: new.name ?? info.name ?? "")
            // An aggregated ClusterRole can gather any rules later: only with `escalate`.
            if new["aggregationRule"].map({ !$0.isNull }) ?? false, await !authorizer.authorize(override).allowed {
                throw forbidden(info, name: override.name, user: user, missing: [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])])
            }
        }
        let missing = uncovered(granted, by: held)
        if !missing.isEmpty, await !authorizer.authorize(override).allowed {
            throw forbidden(info, name: isBinding ? (new.name ?? info.name ?? "") : override.name, user: user, missing: missing)
        }
        return buffered
    }

    /// The atomic parts of `rules` that no rule of `owner` covers (Kubernetes' `Covers`).
    static func uncovered(_ rules: [PolicyRule], by owner: [PolicyRule]) -> [PolicyRule] {
        var missing: [PolicyRule] = []
        for rule in rules {
            for verb in rule.verbs {
                for url in rule.nonResourceURLs {
                    let covered = owner.contains { o in
                        (o.verbs.contains("*") || o.verbs.contains(verb)) && o.nonResourceURLs.contains { PolicyRule.pathMatches($0, url) }
                    }
                    if !covered { missing.append(PolicyRule(verbs: [verb], nonResourceURLs: [url])) }
                }
                for g in rule.apiGroups {
                    for r in rule.resources {
                        for name in rule.resourceNames.isEmpty ? [nil] : rule.resourceNames.map(Optional.some) {
                            let covered = owner.contains { o in
                                (o.verbs.contains("*") || o.verbs.contains(verb)) && (o.apiGroups.contains("*") || o.apiGroups.contains(g))
                                    && resourceCovers(o.resources, r)
                                    && (o.resourceNames.isEmpty || name.map { o.resourceNames.contains($0) } ?? false)
                            }
                            if !covered {
                                missing.append(PolicyRule(verbs: [verb], apiGroups: [g], resources: [r], resourceNames: name.map { [$0] } ?? []))
                            }
                        }
                    }
                }
            }
        }
        return missing
    }

    /// Whether owner resources cover `r` (`pods`, `pods/log`, `*/scale` or `*`).
    static func resourceCovers(_ owner: [String], _ r: String) -> Bool {
        if owner.contains("*") || owner.contains(r) { return true }
        guard let slash = r.firstIndex(of: "/") else { return false }
        return owner.contains("*" + r[slash...])
    }

    static func forbidden(_ info: RequestInfo, name: String, user: UserInfo, missing: [PolicyRule]) -> APIError {
        let groups = user.groups.map { "\"\($0)\"" }.joined(separator: " ")
        let shown = missing.prefix(10).map { r -> String in
            func list(_ v: [String]) -> String { "[" + v.map { "\"\($0)\"" }.joined(separator: " ") + "]" }
            if !r.nonResourceURLs.isEmpty { return "{NonResourceURLs:\(list(r.nonResourceURLs)), Verbs:\(list(r.verbs))}" }
            var s = "{APIGroups:\(list(r.apiGroups)), Resources:\(list(r.resources))"
            if !r.resourceNames.isEmpty { s += ", ResourceNames:\(list(r.resourceNames))" }
            return s + ", Verbs:\(list(r.verbs))}"
        }.joined(separator: "\n")
        let more = missing.count > 10 ? "\n... and \(missing.count - 10) more" : ""
        let why = "user \"\(user.name)\" (groups=[\(groups)]) is attempting to grant RBAC permissions not currently held:\n\(shown)\(more)"
        var details: JSONValue = ["kind": .string(info.resource), "group": .string(group)]
        if !name.isEmpty { details["name"] = .string(name) }
        let subject = name.isEmpty ? "\(info.resource).\(group)" : "\(info.resource).\(group) \"\(name)\""
        return APIError(code: 403, reason: "Forbidden", message: "\(subject) is forbidden: \(why)", details: details)
    }
}
