import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The clusterrole-aggregation controller against the real control plane: a ClusterRole
/// labelled to aggregate to `view` has its rules written into `view`, and loses them there
/// when the label goes.
@Suite struct ClusterRoleAggregationTests {
    static let clusterRoles = ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles")
    static let viewLabel = "rbac.authorization.k8s.io/aggregate-to-view"
    static let rule: JSONValue = ["apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]]

    @Test func unionOfMatchingRolesDeduplicatedInNameOrder() {
        let selectors: [JSONValue] = [["matchLabels": ["a": "true"]], ["matchLabels": ["b": "true"]], [:]]
        let r1: JSONValue = ["verbs": ["get"], "resources": ["x"]], r2: JSONValue = ["verbs": ["get"], "resources": ["y"]]
        let roles: [JSONValue] = [
            ["metadata": ["name": "zeta", "labels": ["a": "true"]], "rules": [r2, r1]],
            ["metadata": ["name": "alpha", "labels": ["a": "true", "b": "true"]], "rules": [r1]],
            ["metadata": ["name": "self", "labels": ["a": "true"]], "rules": [["verbs": ["*"]]]],
            ["metadata": ["name": "other"], "rules": [["verbs": ["delete"]]]],
        ]
        #expect(ClusterRoleAggregationController.aggregatedRules(of: "self", selectors: selectors, among: roles) == [r1, r2])
    }

    @Test(.timeLimit(.minutes(5))) func labelledRoleAggregatesIntoView() async throws {
        try await withControlPlane(scenario)
    }

    func scenario(_ client: KubeRESTClient) async throws {
        func viewRules() async throws -> [JSONValue] {
            try await client.get(Self.clusterRoles.named("view").path)["rules"]?.arrayValue ?? []
        }
        // The default aggregated roles get their rules written.
        let filled = try await eventually(timeout: .seconds(30)) { !(try await viewRules()).isEmpty }
        #expect(filled)
        let adminFilled = try await eventually(timeout: .seconds(30)) {
            !(try await client.get(Self.clusterRoles.named("admin").path)["rules"]?.arrayValue ?? []).isEmpty
        }
        #expect(adminFilled)

        _ = try await client.create(Self.clusterRoles.path, [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": "widget-viewer", "labels": .object([Self.viewLabel: "true"])],
            "rules": [Self.rule],
        ])
        let added = try await eventually(timeout: .seconds(30)) { try await viewRules().contains(Self.rule) }
        #expect(added)
        // edit aggregates view's rules in turn, and admin edit's.
        let transitive = try await eventually(timeout: .seconds(30)) {
            (try await client.get(Self.clusterRoles.named("admin").path)["rules"]?.arrayValue ?? []).contains(Self.rule)
        }
        #expect(transitive)

        var role = try await client.get(Self.clusterRoles.named("widget-viewer").path)
        role[path: ["metadata", "labels"]] = .object([:])
        _ = try await client.update(Self.clusterRoles.named("widget-viewer").path, role)
        let removed = try await eventually(timeout: .seconds(30)) { !(try await viewRules().contains(Self.rule)) }
        #expect(removed)
        #expect(!(try await viewRules()).isEmpty)
    }
}
