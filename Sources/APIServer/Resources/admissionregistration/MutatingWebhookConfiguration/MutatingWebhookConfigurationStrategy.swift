import Foundation
import KubeModel

/// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration (cluster-scoped): webhooks that
/// may patch an object before it is validated and written. The calls themselves are
/// `MutatingAdmissionWebhook`'s.
public struct MutatingWebhookConfigurationStrategy: ResourceStrategy {
    public init() {}

    public let definition = ResourceDefinition(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "MutatingWebhookConfiguration",
        plural: "mutatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"],
        schemaNames: ["v1": "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration"])

    public func applyDefaults(to object: inout JSONValue) { WebhookRules.applyDefaults(to: &object, mutating: true) }
    public func validate(_ object: JSONValue) -> [FieldError] { WebhookRules.validate(object, mutating: true) }
    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validate(object) }
    public var tableColumns: [TableColumn] { WebhookRules.tableColumns }
    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { WebhookRules.tableCells(for: object, now: now) }
}
