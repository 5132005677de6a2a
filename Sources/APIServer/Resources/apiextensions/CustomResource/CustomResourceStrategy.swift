import Foundation
import KubeModel

/// The strategy of one kind a CustomResourceDefinition defines: its names, scope and served
/// versions come from the definition; each version's `openAPIV3Schema` prunes, defaults and
/// validates objects; `additionalPrinterColumns` make its table and `selectableFields` the
/// fields its field selectors accept (those of the preferred version, as for the columns). Versions convert with
/// `None` conversion (only `apiVersion` changes), as the definition's default strategy, or by
/// the definition's conversion webhook (`strategy: Webhook`).
public struct CustomResourceStrategy: ResourceStrategy {
    public let definition: ResourceDefinition
    let schemas: [String: CustomResourceSchema]
    let columns: [PrinterColumn]
    let hasStatus: Bool
    /// Fields selectors may use besides metadata.name and metadata.namespace.
    let selectable: CustomResourceSelectableFields
    public let scalePaths: ScalePaths
    public let conversionWebhook: ConversionWebhook?

    struct PrinterColumn: Sendable {
        var column: TableColumn
        var path: JSONPath?
    }

    /// The strategy for an established definition; nil when it serves no version.
    init?(crd: JSONValue) {
        let spec = crd["spec"] ?? .object([:])
        let names = spec["names"] ?? .object([:])
        let versions = spec["versions"]?.arrayValue ?? []
        let served = versions.filter { $0["served"]?.boolValue == true }
        guard let group = spec["group"]?.stringValue, let kind = names["kind"]?.stringValue,
              let plural = names["plural"]?.stringValue, !served.isEmpty else { return nil }
        let storage = versions.first { $0["storage"]?.boolValue == true }?["name"]?.stringValue
        let servedNames = Self.byPriority(served.compactMap { $0["name"]?.stringValue })
        let preferred = served.first { $0["name"]?.stringValue == servedNames.first } ?? served[0]
        var subresources: Set<Subresource> = []
        if preferred[path: ["subresources", "status"]] != nil { subresources.insert(.status) }
        hasStatus = subresources.contains(.status)
        if let scale = preferred[path: ["subresources", "scale"]] {
            subresources.insert(.scale)
            scalePaths = ScalePaths(specReplicasPath: scale["specReplicasPath"]?.stringValue ?? ".spec.replicas",
                                    statusReplicasPath: scale["statusReplicasPath"]?.stringValue ?? ".status.replicas",
                                    labelSelectorPath: scale["labelSelectorPath"]?.stringValue)
        } else {
            scalePaths = .workload
        }
        var schemaNames: [String: String] = [:]
        var schemas: [String: CustomResourceSchema] = [:]
        for v in versions {
            guard let name = v["name"]?.stringValue else { continue }
            schemaNames[name] = Self.typeName(group: group, version: name, kind: kind)
            if let schema = v[path: ["schema", "openAPIV3Schema"]] { schemas[name] = CustomResourceSchema(schema) }
        }
        self.schemas = schemas
        conversionWebhook = ConversionWebhook(conversion: spec["conversion"], definition: crd.name ?? "\(plural).\(group)")
        selectable = CustomResourceSelectableFields(version: preferred)
        definition = ResourceDefinition(
            group: group, versions: servedNames, storageVersion: storage ?? servedNames[0], kind: kind, plural: plural,
            singular: names["singular"]?.stringValue ?? kind.lowercased(),
            shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            namespaced: spec["scope"]?.stringValue != "Cluster",
            categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            subresources: subresources, schemaNames: schemaNames)
        columns = (preferred["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { c in
            guard let name = c["name"]?.stringValue, let path = c["jsonPath"]?.stringValue else { return nil }
            return PrinterColumn(column: TableColumn(name, type: c["type"]?.stringValue ?? "string", format: c["format"]?.stringValue ?? "",
                                                     description: c["description"]?.stringValue ?? "",
                                                     priority: Int(c["priority"]?.intValue ?? 0)),
                                 path: try? JSONPath("{" + path + "}"))
        }
    }

    /// The OpenAPI definition name of a custom kind, reversed-domain as kube-apiserver names it
    /// (`com.example.stable.v1.CronTab`).
    static func typeName(group: String, version: String, kind: String) -> String {
        group.split(separator: ".").reversed().joined(separator: ".") + ".\(version).\(kind)"
    }

    /// Kubernetes' version priority: GA before beta before alpha, higher numbers first, then
    /// non-Kubernetes-style names alphabetically.
    static func byPriority(_ versions: [String]) -> [String] {
        func rank(_ v: String) -> (Int, Int, Int, String) {
            let pattern = /^v(\d+)(?:(alpha|beta)(\d+))?$/
            guard let m = v.wholeMatch(of: pattern), let major = Int(m.1) else { return (3, 0, 0, v) }
            let stage = m.2.map { $0 == "beta" ? 1 : 2 } ?? 0
            return (stage, -major, -(m.3.flatMap { Int($0) } ?? 0), v)
        }
        return versions.sorted { rank($0) < rank($1) }
    }

    public var tracksGeneration: Bool { true }
    public var keepsStatusOnCreate: Bool { !hasStatus }
    public var subresourceHandlers: [SubresourceHandler] {
        (hasStatus ? [.status] : []) + (definition.subresources.contains(.scale) ? [.scale] : [])
    }

    public func pruneUnknownFields(_ object: inout JSONValue, version: String) -> [String]? {
        schemas[version]?.prune(&object) ?? []
    }

    public func applyDefaults(to object: inout JSONValue) {
        guard let schema = schemas[definition.storageVersion] else { return }
        schema.prune(&object)
        schema.applyDefaults(&object)
    }

    public func validate(_ object: JSONValue) -> [FieldError] {
        schemas[definition.storageVersion]?.validate(object) ?? []
    }

    public func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] {
        schemas[definition.storageVersion]?.validate(object, old: old) ?? []
    }

    public func validateStatusUpdate(_ object: JSONValue, old: JSONValue) -> [FieldError] { validateUpdate(object, old: old) }

    public func selectableField(_ field: String, of object: JSONValue) -> String?? {
        selectable.value(field, of: object)
    }

    public var tableColumns: [TableColumn] {
        guard !columns.isEmpty else { return [TableColumn("Name", format: "name"), TableColumn("Age", type: "date")] }
        return [TableColumn("Name", format: "name", description: "Name must be unique within a namespace.")] + columns.map(\.column)
    }

    public func tableCells(for object: JSONValue, now: Date) -> [JSONValue] {
        guard !columns.isEmpty else { return [.string(object.name ?? ""), .string(TableFormat.age(of: object, now: now))] }
        return [.string(object.name ?? "")] + columns.map { c in
            guard let value = c.path?.values(object).first, !value.isNull else { return .null }
            switch c.column.type {
            case "date":
                guard let s = value.stringValue else { return value }
                return .string(TableFormat.age(of: ["metadata": ["creationTimestamp": .string(s)]], now: now))
            case "integer", "number", "boolean": return value
            default: return value.stringValue.map(JSONValue.string) ?? .string(JSONPath.text(value))
            }
        }
    }
}
