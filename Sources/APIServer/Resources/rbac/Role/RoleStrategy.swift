import Foundation
import KubeModel

/// rbac.authorization.k8s.io/v1 Role: namespaced policy rules, no non-resource URLs.
public struct RoleStrategy: ResourceStrategy {
    public init() {}

    public let definition = ResourceDefinition(
        group: "rbac.authorization.k8s.io", versions: ["v1"], kind: "Role", plural: "roles",
        namespaced: true, schemaNames: ["v1": "io.k8s.api.rbac.v1.Role"])

    /// RBAC names are path segments, so `system:foo` is valid.
    public var nameRule: NameRule { .pathSegment }

    public func validate(_ object: JSONValue) -> [FieldError] {
        RBACValidation.validateRules(object["rules"], namespaced: true)
    }

    public var tableColumns: [TableColumn] { RBACValidation.roleColumns }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { RBACValidation.roleCells(object) }
}
