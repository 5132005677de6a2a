import KubeClient
import KubeModel

/// Prints full objects as `-o yaml|json|name|jsonpath|custom-columns` do: one object as
/// itself, several wrapped in a `List`.
struct ObjectPrinter {
    var format: OutputFormat
    var noHeaders = false
    /// kubectl hides `metadata.managedFields` unless `--show-managed-fields`.
    var showManagedFields = false

    /// `kind.group/name` (`deployment.apps/web`, `pod/x`), kubectl's resource/name form.
    static func qualifiedName(_ object: JSONValue) -> String {
        let kind = (object["kind"]?.stringValue ?? "").lowercased()
        let group = RESTMapper.splitGroupVersion(object["apiVersion"]?.stringValue ?? "").group
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        return (group.isEmpty ? kind : kind + "." + group) + "/" + name
    }

    /// The `List` kubectl prints for several objects.
    static func list(_ items: [JSONValue]) -> JSONValue {
        .object(["apiVersion": "v1", "kind": "List", "items": .array(items),
                 "metadata": .object(["resourceVersion": ""])])
    }

    /// Text for `objects`; `single` prints one object bare (a get by one name).
    func render(_ objects: [JSONValue], single: Bool) throws -> String {
        let objects = showManagedFields ? objects : objects.map(Self.withoutManagedFields)
        let doc = single && objects.count == 1 ? objects[0] : Self.list(objects)
        switch format {
        case .yaml: return YAMLEncoding.encode(doc)
        case .json: return JSONWriter.prettyString(doc) + "\n"
        case .name: return objects.map { Self.qualifiedName($0) + "\n" }.joined()
        case .jsonPath(let template):
            do { return try JSONPath(Self.unquote(template)).render(doc) } catch let e as JSONPath.ParseError {
                throw CommandFailure.error("error parsing jsonpath \(template), \(e.description)")
            }
        case .customColumns(let spec):
            return try CustomColumns(spec: spec).render(objects, noHeaders: noHeaders)
        case .table, .wide:
            return ""
        }
    }

    static func withoutManagedFields(_ object: JSONValue) -> JSONValue {
        guard case .object(var o) = object, case .object(var m)? = o["metadata"], m["managedFields"] != nil else { return object }
        m["managedFields"] = nil
        o["metadata"] = .object(m)
        return .object(o)
    }

    /// Shells often leave quotes around a template (`-o jsonpath='{.x}'` on Windows, or in scripts).
    static func unquote(_ s: String) -> String {
        if s.count >= 2, let f = s.first, f == "'" || f == "\"", s.last == f { return String(s.dropFirst().dropLast()) }
        return s
    }
}
