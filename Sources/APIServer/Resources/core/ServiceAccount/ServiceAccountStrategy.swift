import Foundation
import KubeModel

/// core/v1 ServiceAccount: plain storage; the table counts referenced secrets.
public struct ServiceAccountStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "", versions: ["v1"], kind: "ServiceAccount", plural: "serviceaccounts", shortNames: ["sa"],
        namespaced: true, subresources: [.token], schemaNames: ["v1": "io.k8s.api.core.v1.ServiceAccount"])

    public var subresourceHandlers: [SubresourceHandler] { [Registry.tokenRequestHandler] }

    public func validate(_ object: JSONValue) -> [FieldError] {
        var errs: [FieldError] = []
        for (field, list) in [("secrets", K.array(object["secrets"])), ("imagePullSecrets", K.array(object["imagePullSecrets"]))] {
            for (i, ref) in list.enumerated() {
                if let n = ref["name"]?.stringValue, !n.isEmpty {
                    errs += NameValidation.validateObjectName(n, path: K.child(K.idx(field, i), "name"), rule: .dns1123Subdomain)
                }
            }
        }
        return errs
    }

    public var tableColumns: [TableColumn] {
        [
            TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
            TableColumn("Secrets", description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."),
            TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), .int(Int64(K.array(object["secrets"]).count)), .string(TableFormat.age(of: object, now: now))]
    }
}
