import Foundation
import KubeModel

/// admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration (cluster-scoped): webhooks
/// the API server asks, after validation and before the write, whether a request may proceed.
/// The calls themselves are `ValidatingAdmissionWebhook`'s.
public struct ValidatingWebhookConfigurationStrategy: ResourceStrategy {
    public init() {}

    public let definition = ResourceDefinition(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "ValidatingWebhookConfiguration",
        plural: "validatingwebhookconfigurations", namespaced: false, categories: ["api-extensions"],
        schemaNames: ["v1": "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration"])

    public func applyDefaults(to object: inout JSONValue) { WebhookRules.applyDefaults(to: &object, mutating: false) }
    public func validate(_ object: JSONValue) -> [FieldError] { WebhookRules.validate(object, mutating: false) }
    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validate(object) }
    public var tableColumns: [TableColumn] { WebhookRules.tableColumns }
    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] { WebhookRules.tableCells(for: object, now: now) }
}
