import Foundation
import KubeClient
import KubeModel
import Logging

/// Kubernetes' clusterrole-aggregation controller: a ClusterRole with an
/// `aggregationRule.clusterRoleSelectors` gets, in its stored `rules`, the union of the rules of
/// every other ClusterRole any selector matches (selectors in order, matching roles by name,
/// duplicates dropped). It writes only when the rules differ. Keys are ClusterRole names.
/// (The RBAC authorizer resolves aggregation itself too, so nothing depends on this running.)
public struct ClusterRoleAggregationController: Reconciler {
    static let resource = ResourcePath(group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles")

    let client: any ResourceClient
    let clusterRoles: ObjectCache

    /// Watches ClusterRoles: a change wakes every role aggregating it. One worker.
    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "clusterrole-aggregation", workers: 1) { wiring in
            let roles = wiring.cache(resource)
            wiring.watch(resource, handler(clusterRoles: roles, enqueue: wiring.enqueue))
            return ClusterRoleAggregationController(client: client, clusterRoles: roles)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let role = clusterRoles.get(key), let name = role.name,
              let selectors = role[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue else { return .done }
        let wanted = Self.aggregatedRules(of: name, selectors: selectors, among: clusterRoles.list())
        let current = role["rules"]?.arrayValue ?? []
        guard current != wanted else { return .done }
        var updated = role
        updated["rules"] = .array(wanted)
        do {
            _ = try await client.update(Self.resource.named(name).path, updated)
        } catch let e as KubeAPIError where e.isNotFound {
            // Deleted meanwhile.
        }
        return .done
    }

    /// The rules the role `name` should hold: for each selector in order, the rules of the
    /// matching ClusterRoles (other than itself) sorted by name, each rule once.
    static func aggregatedRules(of name: String, selectors: [JSONValue], among roles: [JSONValue]) -> [JSONValue] {
        let others = roles.filter { $0.name != nil && $0.name != name }.sorted { ($0.name ?? "") < ($1.name ?? "") }
        var rules: [JSONValue] = []
        for raw in selectors {
            // An empty selector would gather everything; Kubernetes ignores it, and so does the authorizer.
            guard let selector = try? LabelSelector.fromJSON(raw), !selector.isEverything, !selector.isNothing else { continue }
            for other in others where selector.matches(other.labels) {
                for rule in other["rules"]?.arrayValue ?? [] where !rules.contains(rule) { rules.append(rule) }
            }
        }
        return rules
    }

    /// Any ClusterRole change may change what an aggregated role gathers: wake every aggregated role.
    static func handler(clusterRoles: ObjectCache, enqueue: @escaping @Sendable (String) -> Void) -> InformerHandler {
        InformerHandler.any { _ in
            for role in clusterRoles.list() where role[path: ["aggregationRule", "clusterRoleSelectors"]]?.arrayValue != nil {
                if let n = role.name { enqueue(n) }
            }
        }
    }
}
