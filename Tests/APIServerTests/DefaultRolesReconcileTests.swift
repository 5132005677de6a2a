import Foundation
import KubeModel
import Testing
@testable import APIServer

/// Default roles and bindings from an older data dir get what a newer version added, once.
@Suite struct DefaultRolesReconcileTests {
    @Test func missingRulesAndSubjectsComeBackAndNothingDoubles() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let registry = Registry(store: store, catalog: ResourceCatalog(BuiltinResources.all))
        try await APIServerBuilder.bootstrap(registry)
        try await DefaultRoles.ensure(registry)
        let roles = try #require(registry.catalog.strategy(group: "rbac.authorization.k8s.io", plural: "clusterroles"))
        let bindings = try #require(registry.catalog.strategy(group: "rbac.authorization.k8s.io", plural: "clusterrolebindings"))
        let cm = "system:kube-controller-manager"
        let full = try await registry.get(roles, version: "v1", namespace: nil, name: cm)
        let count = full["rules"]?.arrayValue?.count ?? 0
        #expect(count > 2)

        // An "old" role lacking two rules, a binding lacking its subject, and one opted out.
        var old = full
        old["rules"] = .array(Array((full["rules"]?.arrayValue ?? []).dropLast(2)))
        _ = try await registry.update(roles, version: "v1", namespace: nil, name: cm, body: old, target: .main, options: WriteOptions())
        var binding = try await registry.get(bindings, version: "v1", namespace: nil, name: "system:node")
        binding["subjects"] = .array([])
        _ = try await registry.update(bindings, version: "v1", namespace: nil, name: "system:node", body: binding, target: .main,
                                      options: WriteOptions())
        var view = try await registry.get(roles, version: "v1", namespace: nil, name: "system:node")
        let nodeRules = view["rules"]?.arrayValue ?? []
        view[path: ["metadata", "annotations", "rbac.authorization.kubernetes.io/autoupdate"]] = "false"
        view["rules"] = .array(Array(nodeRules.prefix(1)))
        _ = try await registry.update(roles, version: "v1", namespace: nil, name: "system:node", body: view, target: .main,
                                      options: WriteOptions())

        try await DefaultRoles.ensure(registry)
        try await DefaultRoles.ensure(registry)
        let restored = try await registry.get(roles, version: "v1", namespace: nil, name: cm)
        #expect(restored["rules"]?.arrayValue?.count == count)
        let rebound = try await registry.get(bindings, version: "v1", namespace: nil, name: "system:node")
        #expect(rebound["subjects"]?.arrayValue?.count == 1)
        let optedOut = try await registry.get(roles, version: "v1", namespace: nil, name: "system:node")
        #expect(optedOut["rules"]?.arrayValue?.count == 1)
    }
}
