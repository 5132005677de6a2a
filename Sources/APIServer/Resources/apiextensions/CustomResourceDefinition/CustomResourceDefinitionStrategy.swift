import Foundation
import KubeModel

/// apiextensions.k8s.io/v1 CustomResourceDefinition: a new kind served by this server. The
/// names are checked here; `CustomResourceServing` serves the kind once the definition is
/// stored, and empties it (its objects deleted) before a deleted definition goes.
public struct CustomResourceDefinitionStrategy: ResourceStrategy {
    typealias K = ResourceKit

    public init() {}

    public let definition = ResourceDefinition(
        group: "apiextensions.k8s.io", versions: ["v1"], kind: "CustomResourceDefinition", plural: "customresourcedefinitions",
        shortNames: ["crd", "crds"], namespaced: false, categories: ["api-extensions"], subresources: [.status],
        schemaNames: ["v1": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"])

    public var subresourceHandlers: [SubresourceHandler] { [.status] }
    public var tracksGeneration: Bool { true }

    /// Held on every definition so its objects are deleted before it goes.
    static let cleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io"

    public func applyDefaults(to object: inout JSONValue) {
        K.withChild(&object, "spec") { spec in
            K.fill(&spec, "scope", "Namespaced")
            K.withChild(&spec, "names") { names in
                if names["singular"] == nil, let kind = names["kind"]?.stringValue { names["singular"] = .string(kind.lowercased()) }
                if names["listKind"] == nil, let kind = names["kind"]?.stringValue { names["listKind"] = .string(kind + "List") }
            }
            K.withChild(&spec, "conversion") { c in K.fill(&c, "strategy", "None") }
        }
    }

    public func prepareForCreate(_ object: inout JSONValue) {
        var finalizers = object[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        if !finalizers.contains(.string(Self.cleanupFinalizer)) { finalizers.append(.string(Self.cleanupFinalizer)) }
        object[path: ["metadata", "finalizers"]] = .array(finalizers)
        object["status"] = ["conditions": [], "acceptedNames": ["kind": "", "plural": ""], "storedVersions": []]
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        let spec = object["spec"] ?? .object([:])
        var errs: [FieldError] = []
        let group = K.string(spec["group"])
        let plural = K.string(spec[path: ["names", "plural"]])
        if group.isEmpty {
            errs.append(.required("spec.group"))
        } else if !group.contains(".") {
            errs.append(.invalid("spec.group", group, "should be a domain with at least one dot"))
        } else {
            errs += NameValidation.validateObjectName(group, path: "spec.group", rule: .dns1123Subdomain)
        }
        if let name = object.name, !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            errs.append(.invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"))
        }
        errs += K.enumValue(spec["scope"], "spec.scope", ["Cluster", "Namespaced"])
        for field in ["plural", "singular", "kind", "listKind"] {
            let value = K.string(spec[path: ["names", field]])
            let path = "spec.names.\(field)"
            if value.isEmpty {
                if field == "plural" || field == "kind" { errs.append(.required(path)) }
                continue
            }
            if field.hasSuffix("ind") {
                if value.range(of: #"^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$"#, options: .regularExpression) == nil {
                    errs.append(.invalid(path, FieldError.show(.string(value)), "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?"))
                }
            } else {
                errs += NameValidation.validateObjectName(value, path: path, rule: .dns1123Label)
            }
        }
        for (i, short) in (spec[path: ["names", "shortNames"]]?.arrayValue ?? []).enumerated() {
            errs += NameValidation.validateObjectName(K.string(short), path: "spec.names.shortNames[\(i)]", rule: .dns1123Label)
        }
        let versions = spec["versions"]?.arrayValue ?? []
        if versions.isEmpty { errs.append(.required("spec.versions", "must have exactly one version marked as storage version")) }
        var names: Set<String> = []
        for (i, v) in versions.enumerated() {
            let path = "spec.versions[\(i)]"
            let name = K.string(v["name"])
            errs += NameValidation.validateObjectName(name, path: "\(path).name", rule: .dns1035Label)
            if !names.insert(name).inserted { errs.append(.duplicate("\(path).name", name)) }
            if v["served"]?.boolValue == nil { errs.append(.required("\(path).served")) }
            if v["storage"]?.boolValue == nil { errs.append(.required("\(path).storage")) }
            if let schema = v[path: ["schema", "openAPIV3Schema"]] {
                if schema["type"]?.stringValue != "object" {
                    errs.append(.invalid("\(path).schema.openAPIV3Schema.type", K.string(schema["type"]), "must be object at the root"))
                }
            } else {
                errs.append(.required("\(path).schema.openAPIV3Schema", "schemas are required"))
            }
            if let selectable = v["selectableFields"]?.arrayValue {
                errs += CustomResourceSelectableFields.validate(selectable, schema: v[path: ["schema", "openAPIV3Schema"]],
                                                                path: "\(path).selectableFields")
            }
        }
        errs += Self.validateConversion(spec["conversion"])
        errs += Self.ruleErrors(versions)
        let storage = versions.filter { $0["storage"]?.boolValue == true }.count
        if !versions.isEmpty && storage != 1 {
            errs.append(.invalid("spec.versions", "", "must have exactly one version marked as storage version"))
        }
        if !versions.isEmpty && !versions.contains(where: { $0["served"]?.boolValue == true }) {
            errs.append(.invalid("spec.versions", "", "must have at least one version marked as served"))
        }
        return errs
    }

    /// `spec.conversion` as apiextensions-apiserver checks it: `None`, or `Webhook` with a
    /// client config (exactly one of url and service) and review versions this server speaks (v1).
    static func validateConversion(_ conversion: JSONValue?) -> [FieldError] {
        guard let conversion, !conversion.isNull else { return [] }
        var errs = K.enumValue(conversion["strategy"], "spec.conversion.strategy", ["None", "Webhook"])
        let webhook = conversion["webhook"]
        guard conversion["strategy"]?.stringValue == "Webhook" else {
            if let webhook, !webhook.isNull { errs.append(.forbidden("spec.conversion.webhook", "should not be set when strategy is not set to Webhook")) }
            return errs
        }
        guard let webhook, !webhook.isNull else {
            return errs + [.required("spec.conversion.webhook", "must be set when strategy is set to Webhook")]
        }
        let reviewVersions = K.array(webhook["conversionReviewVersions"]).compactMap(\.stringValue)
        if reviewVersions.isEmpty {
            errs.append(.required("spec.conversion.webhook.conversionReviewVersions", "must specify one of v1, v1beta1"))
        } else if !reviewVersions.contains("v1") {
            errs.append(.invalid("spec.conversion.webhook.conversionReviewVersions", "[" + reviewVersions.joined(separator: " ") + "]",
                                 "must include at least one of v1"))
        }
        let client = webhook["clientConfig"]
        let hasURL = !(client?["url"]?.stringValue ?? "").isEmpty
        let hasService = client?["service"].map { !$0.isNull } ?? false
        if hasURL == hasService {
            errs.append(.required("spec.conversion.webhook.clientConfig", "exactly one of url or service is required"))
        }
        if hasURL, let url = client?["url"]?.stringValue, URL(string: url)?.scheme != "https" {
            errs.append(.invalid("spec.conversion.webhook.clientConfig.url", url, "'https' is the only allowed URL scheme"))
        }
        if let ca = client?["caBundle"]?.stringValue, !ca.isEmpty, !K.isBase64(ca) {
            errs.append(.invalid("spec.conversion.webhook.clientConfig.caBundle", ca, "must be base64 encoded"))
        }
        return errs
    }

    /// Compile errors of the schemas' CEL rules. As kube-apiserver, identical schemas of every
    /// version are named as the definition-wide `spec.validation`.
    static func ruleErrors(_ versions: [JSONValue]) -> [FieldError] {
        let schemas = versions.map { $0[path: ["schema", "openAPIV3Schema"]] }
        if let first = schemas.first, let schema = first, schemas.allSatisfy({ $0 == first }) {
            return CustomResourceValidationRules.compileErrors(schema: schema, path: "spec.validation.openAPIV3Schema")
        }
        var errs: [FieldError] = []
        for (i, schema) in schemas.enumerated() {
            guard let schema else { continue }
            errs += CustomResourceValidationRules.compileErrors(schema: schema, path: "spec.versions[\(i)].schema.openAPIV3Schema")
        }
        return errs
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        var errs = validate(object)
        errs += K.immutable(object[path: ["spec", "group"]], old[path: ["spec", "group"]], "spec.group")
        errs += K.immutable(object[path: ["spec", "names", "plural"]], old[path: ["spec", "names", "plural"]], "spec.names.plural")
        errs += K.immutable(object[path: ["spec", "scope"]], old[path: ["spec", "scope"]], "spec.scope")
        return errs
    }

    public var tableColumns: [TableColumn] {
        [TableColumn("Name", format: "name", description: "Name must be unique within a namespace."),
         TableColumn("Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")]
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        [.string(object.name ?? ""), object[path: ["metadata", "creationTimestamp"]] ?? .null]
    }
}
