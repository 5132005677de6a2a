import Foundation
import KubeModel

/// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (cluster-scoped): CEL validations
/// of the requests its `matchConstraints` take, applied through bindings by
/// `ValidatingAdmissionPolicyPlugin`. Every expression is compiled when the policy is written; a
/// policy that does not compile is refused with the compiler's message.
public struct ValidatingAdmissionPolicyStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "ValidatingAdmissionPolicy",
        plural: "validatingadmissionpolicies", namespaced: false, categories: ["api-extensions"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }
    public var tracksGeneration: Bool { true }

    public func applyDefaults(to object: inout JSONValue) {
        K.withChild(&object, "spec") { spec in
            K.fill(&spec, "failurePolicy", "Fail")
            K.withChild(&spec, "matchConstraints") { m in
                K.fill(&m, "matchPolicy", "Equivalent")
                K.fill(&m, "namespaceSelector", .object([:]))
                K.fill(&m, "objectSelector", .object([:]))
                K.eachElement(&m, "resourceRules") { K.fill(&$0, "scope", "*") }
                K.eachElement(&m, "excludeResourceRules") { K.fill(&$0, "scope", "*") }
            }
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs: [FieldError] = []
        errs += K.enumValue(spec["failurePolicy"], "spec.failurePolicy", WebhookRules.failurePolicies, required: false)
        let rules = K.array(spec[path: ["matchConstraints", "resourceRules"]])
        if rules.isEmpty { errs.append(.required("spec.matchConstraints.resourceRules", "")) }
        errs += PolicyExpressionRules.matchResources(spec["matchConstraints"], "spec.matchConstraints")
        if K.array(spec["validations"]).isEmpty && K.array(spec["auditAnnotations"]).isEmpty {
            errs.append(.required("spec.validations", "validations or auditAnnotations must contain at least one item"))
        }
        for (i, v) in K.array(spec["validations"]).enumerated() {
            let path = K.idx("spec.validations", i)
            errs += PolicyExpressionRules.compile(v["expression"], "\(path).expression", required: true)
            errs += PolicyExpressionRules.compile(v["messageExpression"], "\(path).messageExpression", required: false)
            errs += K.enumValue(v["reason"], "\(path).reason", ["Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge"], required: false)
        }
        for (i, a) in K.array(spec["auditAnnotations"]).enumerated() {
            errs += PolicyExpressionRules.compile(a["valueExpression"], "\(K.idx("spec.auditAnnotations", i)).valueExpression", required: true)
        }
        errs += PolicyExpressionRules.named(spec["variables"], "spec.variables")
        errs += PolicyExpressionRules.named(spec["matchConditions"], "spec.matchConditions")
        if let pk = spec["paramKind"], !pk.isNull {
            if K.string(pk["apiVersion"]).isEmpty { errs.append(.required("spec.paramKind.apiVersion", "")) }
            if K.string(pk["kind"]).isEmpty { errs.append(.required("spec.paramKind.kind", "")) }
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validate(object) }
}
