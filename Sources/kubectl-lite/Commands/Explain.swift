import ArgumentParser
import KubeClient
import KubeModel

/// `kubectl explain RESOURCE[.field.path]`: the kind, version and fields of a resource from
/// the server's OpenAPI v2 document.
struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Get documentation for a resource")
    @OptionGroup var global: GlobalOptions
    @Argument var path: String
    @Option(name: .customLong("api-version")) var apiVersion: String?
    @Flag(name: .customLong("recursive")) var recursive = false

    func run() async throws {
        let parts = path.split(separator: ".").map(String.init)
        try await Session.with(global) { session in
            let r = try await session.mapper().resource(parts[0])
            let doc = try await session.client().get("/openapi/v2")
            let definitions = doc["definitions"]?.objectValue ?? [:]
            guard let (_, root) = definitions.first(where: { _, d in
                (d["x-kubernetes-group-version-kind"]?.arrayValue ?? []).contains {
                    $0["kind"]?.stringValue == r.kind && $0["version"]?.stringValue == r.version && ($0["group"]?.stringValue ?? "") == r.group
                }
            }) else { throw CommandFailure.error("couldn't find resource for \"\(r.groupResource)\"") }
            var node = root
            var fieldName: String? = nil
            var fieldType = ""
            for f in parts.dropFirst() {
                guard let next = Self.resolve(node, definitions)["properties"]?[f] else {
                    throw CommandFailure.error("field \"\(f)\" does not exist")
                }
                fieldName = f
                fieldType = Self.typeName(next)
                node = next
            }
            var out = (r.group.isEmpty ? "" : "GROUP:      \(r.group)\n") + "KIND:       \(r.kind)\nVERSION:    \(r.version)\n\n"
            if let fieldName { out += "FIELD: \(fieldName) <\(fieldType)>\n\n" }
            out += "DESCRIPTION:\n" + Self.indent(node["description"]?.stringValue ?? Self.resolve(node, definitions)["description"]?.stringValue ?? "<empty>", 4) + "\n"
            let resolved = Self.resolve(node, definitions)
            if let props = resolved["properties"]?.objectValue, !props.isEmpty {
                let required = Set(resolved["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                out += "FIELDS:\n"
                for key in props.keys.sorted() {
                    let p = props[key] ?? .null
                    out += "  \(key)\t<\(Self.typeName(p))>\(required.contains(key) ? " -required-" : "")\n"
                    out += Self.indent(p["description"]?.stringValue ?? "<no description>", 4) + "\n\n"
                }
            }
            Terminal.write(out)
        }
    }

    static func resolve(_ node: JSONValue, _ defs: [String: JSONValue]) -> JSONValue {
        var n = node
        if let items = n["items"], n["type"]?.stringValue == "array" { n = items }
        if let ref = n["$ref"]?.stringValue ?? n["allOf"]?.arrayValue?.first?["$ref"]?.stringValue {
            return defs[String(ref.split(separator: "/").last ?? "")] ?? n
        }
        return n
    }

    static func typeName(_ p: JSONValue) -> String {
        if let ref = p["$ref"]?.stringValue ?? p["allOf"]?.arrayValue?.first?["$ref"]?.stringValue {
            return String(ref.split(separator: ".").last ?? "Object")
        }
        switch p["type"]?.stringValue {
        case "array": return "[]" + typeName(p["items"] ?? .null)
        case "object": return p["additionalProperties"].map { "map[string]" + typeName($0) } ?? "Object"
        case "integer": return "integer"
        case let t?: return t
        default: return "Object"
        }
    }

    static func indent(_ text: String, _ n: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
    }
}
