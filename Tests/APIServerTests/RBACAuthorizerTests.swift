import Foundation
import Testing
@testable import APIServer
import KubeModel

@Suite struct RBACAuthorizerTests {
    let bob = UserInfo(name: "bob", groups: ["devs", "system:authenticated"])

    func role(_ name: String, ns: String? = nil, rules: [PolicyRule], labels: [String: String] = [:],
              aggregate: [String: String]? = nil) -> JSONValue {
        var meta: JSONValue = ["name": .string(name)]
        if let ns { meta["namespace"] = .string(ns) }
        if !labels.isEmpty { meta["labels"] = .object(labels.mapValues { .string($0) }) }
        var o: JSONValue = ["metadata": meta, "rules": .array(rules.map(\.json))]
        if let aggregate {
            o["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": .object(aggregate.mapValues { .string($0) })]]]
        }
        return o
    }

    func binding(_ name: String, ns: String? = nil, roleKind: String = "ClusterRole", role: String,
                 subject: (String, String)) -> JSONValue {
        var meta: JSONValue = ["name": .string(name)]
        if let ns { meta["namespace"] = .string(ns) }
        return ["metadata": meta, "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": .string(roleKind), "name": .string(role)],
                "subjects": [["kind": .string(subject.0), "name": .string(subject.1)]]]
    }

    func res(_ verb: String, _ group: String, _ resource: String, sub: String = "", ns: String = "", name: String = "",
             user: UserInfo? = nil) -> RequestAttributes {
        RequestAttributes(user: user ?? bob, verb: verb, apiGroup: group, resource: resource, subresource: sub, namespace: ns, name: name)
    }

    @Test func ruleMatchingAndWildcards() {
        let r = PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods"])
        #expect(r.allows(res("get", "", "pods", ns: "a", name: "p")))
        #expect(!r.allows(res("delete", "", "pods", ns: "a", name: "p")))
        #expect(!r.allows(res("get", "apps", "pods")))
        #expect(!r.allows(res("get", "", "pods", sub: "log", name: "p")))
        let all = PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])
        #expect(all.allows(res("deletecollection", "apps", "deployments", sub: "scale")))
        #expect(!all.allows(RequestAttributes(user: bob, verb: "get", path: "/healthz")))
    }

    @Test func subresourcesAndResourceNames() {
        let status = PolicyRule(verbs: ["update"], apiGroups: ["apps"], resources: ["deployments/status"])
        #expect(status.allows(res("update", "apps", "deployments", sub: "status", name: "d")))
        #expect(!status.allows(res("update", "apps", "deployments", name: "d")))
        let anyScale = PolicyRule(verbs: ["get"], apiGroups: ["apps"], resources: ["*/scale"])
        #expect(anyScale.allows(res("get", "apps", "replicasets", sub: "scale", name: "r")))
        #expect(!anyScale.allows(res("get", "apps", "replicasets", sub: "status", name: "r")))
        let named = PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["one"])
        #expect(named.allows(res("get", "", "configmaps", ns: "a", name: "one")))
        #expect(!named.allows(res("get", "", "configmaps", ns: "a", name: "two")))
        #expect(!named.allows(res("list", "", "configmaps", ns: "a")))
    }

    @Test func nonResourceURLs() {
        let r = PolicyRule(verbs: ["get"], nonResourceURLs: ["/apis/*", "/version"])
        #expect(r.allows(RequestAttributes(user: bob, verb: "get", path: "/apis/apps/v1")))
        #expect(r.allows(RequestAttributes(user: bob, verb: "get", path: "/version")))
        #expect(!r.allows(RequestAttributes(user: bob, verb: "get", path: "/versionx")))
        #expect(!r.allows(RequestAttributes(user: bob, verb: "post", path: "/version")))
        #expect(!r.allows(res("get", "", "pods")))
    }

    @Test func bindingsScopeAndSubjects() {
        let view = role("reader", rules: [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"])])
        let writer = role("writer", ns: "a", rules: [PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["configmaps"])])
        let policy = RBACPolicy(
            roles: [writer], clusterRoles: [view],
            roleBindings: [binding("rb", ns: "a", role: "reader", subject: ("User", "bob")),
                           binding("rw", ns: "a", roleKind: "Role", role: "writer", subject: ("Group", "devs"))],
            clusterRoleBindings: [binding("sa", role: "reader", subject: ("ServiceAccount", "x"))])
        #expect(policy.authorize(res("list", "", "configmaps", ns: "a")).allowed)
        #expect(policy.authorize(res("create", "", "configmaps", ns: "a")).allowed)
        #expect(!policy.authorize(res("list", "", "configmaps", ns: "b")).allowed)
        #expect(!policy.authorize(res("list", "", "configmaps")).allowed)
        #expect(!policy.authorize(res("delete", "", "configmaps", ns: "a", name: "c")).allowed)
        // A ServiceAccount subject of a ClusterRoleBinding needs its namespace; this one has none.
        let sa = UserInfo(name: "system:serviceaccount::x")
        #expect(policy.authorize(res("get", "", "configmaps", ns: "z", name: "c", user: sa)).allowed)
        #expect(policy.authorize(res("get", "", "configmaps", user: UserInfo(name: "root", groups: ["system:masters"]))).allowed)
        let reason = policy.authorize(res("list", "", "configmaps", ns: "a")).reason
        #expect(reason.contains("RoleBinding \"rb\""))
    }

    @Test func aggregationIsTransitive() {
        let policy = RBACPolicy(roles: [], clusterRoles: DefaultRoles.clusterRoles, roleBindings: [
            binding("v", ns: "a", role: "view", subject: ("User", "bob")),
            binding("e", ns: "b", role: "edit", subject: ("User", "bob")),
            binding("ad", ns: "c", role: "admin", subject: ("User", "bob")),
        ], clusterRoleBindings: [])
        #expect(policy.authorize(res("list", "", "pods", ns: "a")).allowed)
        #expect(!policy.authorize(res("create", "", "pods", ns: "a")).allowed)
        #expect(!policy.authorize(res("get", "", "secrets", ns: "a", name: "s")).allowed)
        #expect(policy.authorize(res("create", "apps", "deployments", ns: "b")).allowed)
        #expect(policy.authorize(res("list", "", "pods", ns: "b")).allowed)
        #expect(!policy.authorize(res("create", "rbac.authorization.k8s.io", "rolebindings", ns: "b")).allowed)
        #expect(policy.authorize(res("create", "rbac.authorization.k8s.io", "rolebindings", ns: "c")).allowed)
        #expect(policy.authorize(res("watch", "apps", "replicasets", ns: "c")).allowed)
        // A role added later with the right label joins the aggregate.
        let extra = role("extra", rules: [PolicyRule(verbs: ["get"], apiGroups: ["example.com"], resources: ["widgets"])],
                         labels: ["rbac.authorization.k8s.io/aggregate-to-view": "true"])
        let more = RBACPolicy(roles: [], clusterRoles: DefaultRoles.clusterRoles + [extra],
                              roleBindings: [binding("v", ns: "a", role: "view", subject: ("User", "bob"))], clusterRoleBindings: [])
        #expect(more.authorize(res("get", "example.com", "widgets", ns: "a", name: "w")).allowed)
    }

    @Test func defaultBindings() {
        let policy = RBACPolicy(roles: [], clusterRoles: DefaultRoles.clusterRoles, roleBindings: [],
                                clusterRoleBindings: DefaultRoles.clusterRoleBindings)
        #expect(policy.authorize(RequestAttributes(user: bob, verb: "get", path: "/apis/apps/v1")).allowed)
        #expect(policy.authorize(res("create", "authorization.k8s.io", "selfsubjectaccessreviews")).allowed)
        #expect(!policy.authorize(res("list", "", "pods", ns: "a")).allowed)
        let cm = UserInfo(name: "system:kube-controller-manager", groups: ["system:authenticated"])
        #expect(policy.authorize(res("create", "apps", "replicasets", ns: "a", user: cm)).allowed)
        #expect(policy.authorize(res("update", "apps", "deployments", sub: "status", ns: "a", name: "d", user: cm)).allowed)
        #expect(policy.authorize(res("create", "", "pods", sub: "binding", ns: "a", name: "p", user: cm)).allowed)
        #expect(!policy.authorize(res("create", "rbac.authorization.k8s.io", "clusterrolebindings", user: cm)).allowed)
        // The clusterrole-aggregation controller writes rules into aggregated roles, and nothing else in RBAC.
        #expect(policy.authorize(res("update", "rbac.authorization.k8s.io", "clusterroles", name: "view", user: cm)).allowed)
        #expect(policy.authorize(res("escalate", "rbac.authorization.k8s.io", "clusterroles", name: "view", user: cm)).allowed)
        #expect(!policy.authorize(res("create", "rbac.authorization.k8s.io", "clusterroles", user: cm)).allowed)
        #expect(!policy.authorize(res("update", "rbac.authorization.k8s.io", "roles", ns: "a", name: "r", user: cm)).allowed)
        // The garbage collector patches finalizers and ownerReferences of any kind, custom ones included.
        #expect(policy.authorize(res("patch", "external-secrets.io", "secretstores", ns: "a", name: "s", user: cm)).allowed)
    }

    @Test func forbiddenMessage() {
        let e = APIError.forbidden(res("list", "", "configmaps", ns: "other"), reason: "")
        #expect(e.code == 403)
        #expect(e.message == "configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"other\"")
        let d = APIError.forbidden(res("get", "apps", "deployments", sub: "scale", name: "d"), reason: "")
        #expect(d.message == "deployments.apps \"d\" is forbidden: User \"bob\" cannot get resource \"deployments/scale\" in API group \"apps\" at the cluster scope")
        #expect(d.details?["group"]?.stringValue == "apps")
    }

    @Test func verbsFromRequests() throws {
        let info = try #require(RequestInfo.parse(path: "/api/v1/namespaces/a/pods"))
        #expect(RequestAttributes.resource(user: bob, method: "GET", info: info, watch: false).verb == "list")
        #expect(RequestAttributes.resource(user: bob, method: "GET", info: info, watch: true).verb == "watch")
        #expect(RequestAttributes.resource(user: bob, method: "DELETE", info: info, watch: false).verb == "deletecollection")
        let one = try #require(RequestInfo.parse(path: "/apis/apps/v1/namespaces/a/deployments/d/status"))
        let a = RequestAttributes.resource(user: bob, method: "PATCH", info: one, watch: false)
        #expect(a.verb == "patch" && a.resourceWithSubresource == "deployments/status" && a.namespace == "a" && a.name == "d")
    }

    @Test func authorizerReloadsAfterChanges() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let registry = Registry(store: store, catalog: ResourceCatalog(BuiltinResources.all))
        try await APIServerBuilder.bootstrap(registry)
        try await DefaultRoles.ensure(registry)
        let authorizer = RBACAuthorizer(store: store)
        #expect(await !authorizer.authorize(res("list", "", "pods", ns: "default")).allowed)
        let rbs = try #require(registry.catalog.strategy(group: "rbac.authorization.k8s.io", plural: "rolebindings"))
        var body = binding("v", ns: "default", role: "view", subject: ("User", "bob"))
        body["apiVersion"] = "rbac.authorization.k8s.io/v1"
        body["kind"] = "RoleBinding"
        _ = try await registry.create(rbs, version: "v1", namespace: "default", body: body, options: WriteOptions())
        var allowed = false
        for _ in 0..<100 where !allowed {
            allowed = await authorizer.authorize(res("list", "", "pods", ns: "default")).allowed
            if !allowed { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(allowed)
    }

    @Test func bindingValidation() {
        let s = RoleBindingStrategy()
        var ok = binding("b", ns: "a", role: "view", subject: ("User", "bob"))
        s.applyDefaults(to: &ok)
        #expect(s.validate(ok).isEmpty)
        var bad = ok
        bad["subjects"] = [["kind": "Robot", "name": "r"]]
        #expect(s.validate(bad).map(\.field) == ["subjects[0].kind"])
        var changed = ok
        changed[path: ["roleRef", "name"]] = "edit"
        #expect(s.validateUpdate(changed, old: ok).contains { $0.message.contains("cannot change roleRef") })
        let crb = ClusterRoleBindingStrategy()
        var wrongKind = binding("c", roleKind: "Role", role: "x", subject: ("Group", "g"))
        crb.applyDefaults(to: &wrongKind)
        #expect(crb.validate(wrongKind).map(\.field) == ["roleRef.kind"])
        let nsRole = role("r", ns: "a", rules: [PolicyRule(verbs: ["get"], nonResourceURLs: ["/x"])])
        #expect(RoleStrategy().validate(nsRole).map(\.field) == ["rules[0].nonResourceURLs"])
        #expect(ClusterRoleStrategy().validate(role("c", rules: [PolicyRule(verbs: [], apiGroups: [""], resources: ["pods"])])).map(\.field) == ["rules[0].verbs"])
    }
}

@Suite struct EscalationCheckTests {
    @Test func coveringRules() {
        let owner = [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"]),
                     PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"]),
                     PolicyRule(verbs: ["get"], nonResourceURLs: ["/apis/*"])]
        #expect(EscalationCheck.uncovered([PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods", "pods/status"])], by: owner).isEmpty)
        #expect(EscalationCheck.uncovered([PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["a"])], by: owner).isEmpty)
        #expect(EscalationCheck.uncovered([PolicyRule(verbs: ["get"], nonResourceURLs: ["/apis/apps"])], by: owner).isEmpty)
        let missing = EscalationCheck.uncovered([PolicyRule(verbs: ["get", "delete"], apiGroups: [""], resources: ["pods", "secrets"])], by: owner)
        #expect(missing.count == 3)  // delete pods, get secrets (all names), delete secrets
        #expect(!EscalationCheck.uncovered([PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])], by: owner).isEmpty)
        #expect(!EscalationCheck.uncovered([PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods/log"])], by: owner).isEmpty)
    }
}
