import Foundation
import KubeModel

/// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a ClusterRole everywhere.
public struct ClusterRoleBindingStrategy: ResourceStrategy {
    public init() {}

    public let definition = ResourceDefinition(
        group: "rbac.authorization.k8s.io", versions: ["v1"], kind: "ClusterRoleBinding", plural: "clusterrolebindings",
        namespaced: false, schemaNames: ["v1": "io.k8s.api.rbac.v1.ClusterRoleBinding"])

    public var nameRule: NameRule { .pathSegment }

    public func applyDefaults(to object: inout JSONValue) { RBACValidation.defaultSubjects(&object) }

    public func validate(_ object: JSONValue) -> [FieldError] {
        RBACValidation.validateBinding(object, allowedRoleKinds: ["ClusterRole"], namespaced: false)
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        validate(object) + RBACValidation.validateRoleRefUnchanged(object, old: old)
    }

    public var tableColumns: [TableColumn] { RBACValidation.bindingColumns }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { RBACValidation.bindingCells(object, now: now) }
}
