import Foundation
import KubeModel

/// rbac.authorization.k8s.io/v1 RoleBinding: grants a Role or ClusterRole within one namespace.
public struct RoleBindingStrategy: ResourceStrategy {
    public init() {}

    public let definition = ResourceDefinition(
        group: "rbac.authorization.k8s.io", versions: ["v1"], kind: "RoleBinding", plural: "rolebindings",
        namespaced: true, schemaNames: ["v1": "io.k8s.api.rbac.v1.RoleBinding"])

    public var nameRule: NameRule { .pathSegment }

    public func applyDefaults(to object: inout JSONValue) { RBACValidation.defaultSubjects(&object) }

    public func validate(_ object: JSONValue) -> [FieldError] {
        RBACValidation.validateBinding(object, allowedRoleKinds: ["Role", "ClusterRole"], namespaced: true)
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + RBACValidation.validateRoleRefUnchanged(object, old: old)
    }

    public var tableColumns: [TableColumn] { RBACValidation.bindingColumns }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { RBACValidation.bindingCells(object, now: now) }
}
