import KubeModel

/// `-o custom-columns=HEADER:.path,...`: one column per spec, values by JSONPath (several
/// joined with commas), `<none>` when a path finds nothing.
struct CustomColumns {
    var columns: [(header: String, path: JSONPath)]

    init(spec: String) throws {
        var cols: [(String, JSONPath)] = []
        for part in spec.split(separator: ",") {
            guard let colon = part.firstIndex(of: ":") else {
                throw CommandFailure.error("unexpected custom-columns spec: \(part), expected <header>:<json-path-expr>")
            }
            let header = String(part[..<colon])
            var expr = String(part[part.index(after: colon)...])
            if expr.hasPrefix("{") && expr.hasSuffix("}") { expr = String(expr.dropFirst().dropLast()) }
            if !expr.hasPrefix(".") && !expr.hasPrefix("@") && !expr.hasPrefix("$") { expr = "." + expr }
            cols.append((header, try JSONPath("{" + expr + "}")))
        }
        columns = cols
    }

    func render(_ objects: [JSONValue], noHeaders: Bool) throws -> String {
        var rows: [[String]] = noHeaders ? [] : [columns.map(\.header)]
        for o in objects {
            rows.append(columns.map { col in
                let values = col.path.values(o)
                return values.isEmpty ? "<none>" : values.map(JSONPath.text).joined(separator: ",")
            })
        }
        return TabWriter.align(rows)
    }
}
