import KubeModel

/// Turns `SchemaNode`s into OpenAPI 3.0 schemas shaped like kube-openapi's, which
/// `kubectl explain` and kubectl's patch-metadata lookup walk: refs as
/// `#/components/schemas/<name>`, property refs wrapped in `allOf` so they can carry a
/// description, `x-kubernetes-*` extensions on the property that owns them.
struct OpenAPISchemaConverter {
    let schema: Schema

    static func refString(_ name: String) -> String { "#/components/schemas/\(name)" }

    static func ref(_ name: String) -> JSONValue { ["$ref": .string(refString(name))] }

    /// The `components.schemas` entry for a definition.
    func component(name: String, node: SchemaNode) -> JSONValue {
        var out: [String: JSONValue]
        switch node.type {
        case "int-or-string":
            out = ["format": "int-or-string", "oneOf": [["type": "integer"], ["type": "string"]]]
        case "quantity":
            out = ["oneOf": [["type": "string"], ["type": "number"]]]
        default:
            if let r = node.ref {
                out = ["allOf": [Self.ref(r)]]
            } else {
                out = body(node, owner: Schema.shortName(name))
            }
        }
        out["description"] = .string(Self.describe(definition: name, node: node))
        if !node.gvk.isEmpty {
            out["x-kubernetes-group-version-kind"] = .array(
                node.gvk.map { ["group": .string($0.group), "kind": .string($0.kind), "version": .string($0.version)] })
        }
        return .object(out)
    }

    /// A property of `owner`: refs wrapped in `allOf` so the description can sit beside them.
    func property(_ node: SchemaNode, name: String, owner: String) -> JSONValue {
        let description = JSONValue.string("Field \(name) of \(owner).")
        if let r = node.ref {
            var out: [String: JSONValue] = ["allOf": [Self.ref(r)], "description": description]
            extensions(node, into: &out)
            return .object(out)
        }
        var out = body(node, owner: owner)
        out["description"] = description
        // kube-openapi leaves enums off TypeMeta fields; the allowed values are implied by the path.
        if name == "apiVersion" || name == "kind" { out.removeValue(forKey: "enum") }
        return .object(out)
    }

    /// An array item or map value: a bare `$ref`, or an inline schema.
    func element(_ node: SchemaNode, owner: String) -> JSONValue {
        if let r = node.ref { return Self.ref(r) }
        return .object(body(node, owner: owner))
    }

    /// Type, format, structure and extensions of a node that is not a bare reference.
    func body(_ node: SchemaNode, owner: String) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        switch node.type {
        case "int-or-string":
            out["x-kubernetes-int-or-string"] = true
            out["anyOf"] = [["type": "integer"], ["type": "string"]]
        case "quantity":
            out["oneOf"] = [["type": "string"], ["type": "number"]]
        case let t?:
            out["type"] = .string(t)
        case nil:
            if !node.properties.isEmpty { out["type"] = "object" }
        }
        if let f = node.format { out["format"] = .string(f) }
        if !node.properties.isEmpty {
            var props: [String: JSONValue] = [:]
            for (k, v) in node.properties { props[k] = property(v, name: k, owner: owner) }
            out["properties"] = .object(props)
        }
        if !node.required.isEmpty { out["required"] = .array(node.required.map { .string($0) }) }
        if let items = node.items { out["items"] = element(items, owner: owner) }
        if let ap = node.additionalProperties { out["additionalProperties"] = element(ap, owner: owner) }
        if !node.enumValues.isEmpty { out["enum"] = .array(node.enumValues) }
        extensions(node, into: &out)
        return out
    }

    private func extensions(_ node: SchemaNode, into out: inout [String: JSONValue]) {
        out.merge(node.kubernetesExtensions) { _, new in new }
    }

    /// Our own one-line summary of a definition (Kubernetes' prose is not copied).
    static func describe(definition name: String, node: SchemaNode) -> String {
        let short = Schema.shortName(name)
        let package = name.split(separator: ".").dropLast().joined(separator: ".")
        if let g = node.gvk.first, node.gvk.count == 1 {
            let apiVersion = g.group.isEmpty ? g.version : "\(g.group)/\(g.version)"
            if short.hasSuffix("List"), node.properties["items"] != nil {
                return "\(short) is a list of \(short.dropLast(4)) objects in \(apiVersion)."
            }
            return "\(short) is an object of the \(apiVersion) API."
        }
        switch node.type {
        case "int-or-string": return "\(short) holds either an integer or a string."
        case "quantity": return "\(short) is a fixed-point number with an optional unit suffix, written as a string."
        case "string" where node.format == "date-time": return "\(short) is an RFC 3339 timestamp."
        default: return "\(short) is a structure from package \(package)."
        }
    }
}
