import Foundation
import KubeModel

/// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding (cluster-scoped): applies a
/// policy with `validationActions` (Deny, Warn, Audit), an optional param by name, and an
/// optional `matchResources` narrowing what the policy takes.
public struct ValidatingAdmissionPolicyBindingStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "admissionregistration.k8s.io", versions: ["v1"], kind: "ValidatingAdmissionPolicyBinding",
        plural: "validatingadmissionpolicybindings", namespaced: false, categories: ["api-extensions"],
        schemaNames: ["v1": "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding"])

    static let actions = ["Deny", "Warn", "Audit"]

    public func applyDefaults(to object: inout JSONValue) {
        K.withChild(&object, "spec") { spec in
            K.withChild(&spec, "matchResources") { m in
                K.fill(&m, "matchPolicy", "Equivalent")
                K.fill(&m, "namespaceSelector", .object([:]))
                K.fill(&m, "objectSelector", .object([:]))
            }
        }
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs: [FieldError] = []
        if K.string(spec["policyName"]).isEmpty { errs.append(.required("spec.policyName", "")) }
        let actions = K.array(spec["validationActions"]).map { K.string($0) }
        if actions.isEmpty { errs.append(.required("spec.validationActions", "")) }
        var seen: Set<String> = []
        for (i, a) in actions.enumerated() {
            let path = K.idx("spec.validationActions", i)
            if !Self.actions.contains(a) { errs.append(.notSupported(path, FieldError.show(.string(a)), Self.actions)) }
            if !seen.insert(a).inserted { errs.append(.duplicate(path, FieldError.show(.string(a)))) }
        }
        if seen.contains("Deny") && seen.contains("Warn") {
            errs.append(.invalid("spec.validationActions", "[\"Deny\",\"Warn\"]", "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"))
        }
        if let ref = spec["paramRef"], !ref.isNull {
            if ref["selector"] != nil {
                errs.append(.forbidden("spec.paramRef.selector", "params selected by label are not supported by this server; name the param"))
            }
            if K.string(ref["name"]).isEmpty && ref["selector"] == nil { errs.append(.required("spec.paramRef.name", "")) }
            errs += K.enumValue(ref["parameterNotFoundAction"], "spec.paramRef.parameterNotFoundAction", ["Allow", "Deny"], required: false)
        }
        errs += PolicyExpressionRules.matchResources(spec["matchResources"], "spec.matchResources")
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validate(object) }
}
