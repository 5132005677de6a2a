import Foundation
import KubeModel

/// rbac.authorization.k8s.io/v1 ClusterRole: cluster-wide rules, non-resource URLs, and an
/// optional aggregationRule whose selectors pull in the rules of other ClusterRoles.
public struct ClusterRoleStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "rbac.authorization.k8s.io", versions: ["v1"], kind: "ClusterRole", plural: "clusterroles",
        namespaced: false, schemaNames: ["v1": "io.k8s.api.rbac.v1.ClusterRole"])

    public var nameRule: NameRule { .pathSegment }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs = RBACValidation.validateRules(object["rules"], namespaced: false)
        if let rule = object["aggregationRule"], !rule.isNull {
            let selectors = K.array(rule["clusterRoleSelectors"])
            if selectors.isEmpty { errs.append(.required("aggregationRule.clusterRoleSelectors", "at least one clusterRoleSelector required if aggregationRule is non-nil")) }
            for (i, s) in selectors.enumerated() {
                errs += K.validateLabelSelector(s, K.idx("aggregationRule.clusterRoleSelectors", i))
            }
        }
        return errs
    }

    public var tableColumns: [TableColumn] { RBACValidation.roleColumns }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { RBACValidation.roleCells(object) }
}
