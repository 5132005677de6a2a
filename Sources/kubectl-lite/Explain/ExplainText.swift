import KubeModel

/// `kubectl explain` text from one group-version's OpenAPI v3 document, laid out as kubectl's
/// plaintext template lays it out: the field's line, its description (the field's own, then
/// the referenced type's) wrapped at 76 columns, and the sorted field list.
struct ExplainText {
    /// The group-version document (`/openapi/v3/apis/GROUP/VERSION`).
    var document: JSONValue
    var recursive = false

    private var schemas: [String: JSONValue] { document["components"]?["schemas"]?.objectValue ?? [:] }

    /// The text below the GROUP/KIND/VERSION lines for `root` (the kind's schema) followed
    /// along `path`; nil when the path names no field.
    func render(root: JSONValue, path: [String]) -> String? {
        let text = output(root, path: path, history: [])
        return text.isEmpty ? nil : text
    }

    func resolve(_ ref: String?) -> JSONValue? {
        guard let ref, let name = ref.split(separator: "/").last else { return nil }
        return schemas[String(name)]
    }

    private func output(_ schema: JSONValue, path: [String], history: Set<String>) -> String {
        let ref = schema["$ref"]?.stringValue ?? ""
        let resolved = resolve(ref) ?? schema
        var seen = history
        seen.insert(ref)
        guard let first = path.first else {
            var out = "DESCRIPTION:\n" + Self.indent(Self.wrap(description(resolved).nonEmpty ?? "<empty>", 76), 4) + "\n"
            out += externalDocs(resolved).map { "\n" + $0 } ?? ""
            let fields = fieldList(resolved, level: 1, history: [])
            if !fields.isEmpty { out += "FIELDS:\n" + fields }
            return out
        }
        if !ref.isEmpty && history.contains(ref) { return "" }
        if let sub = resolved["properties"]?[first] {
            var out = ""
            if path.count == 1 {
                out += "FIELD: \(first) <\(typeGuess(sub))>\n" + extractEnum(sub, long: true, limit: -1, indent: 0) + "\n\n"
            }
            return out + output(sub, path: Array(path.dropFirst()), history: [])
        }
        if let items = resolved["items"] { return output(items, path: path, history: seen) }
        if let map = resolved["additionalProperties"], map.objectValue != nil { return output(map, path: path, history: seen) }
        for alternative in resolved["allOf"]?.arrayValue ?? [] {
            let out = output(alternative, path: path, history: seen)
            if !out.isEmpty { return out }
        }
        return ""
    }

    /// The schema's description, then those of what it refers to, each ending in a newline.
    private func description(_ schema: JSONValue) -> String {
        let s = resolve(schema["$ref"]?.stringValue) ?? schema
        var out = s["description"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 + "\n" } ?? ""
        for alternative in s["allOf"]?.arrayValue ?? [] { out += description(alternative) }
        if let items = s["items"] { out += description(items) }
        if let map = s["additionalProperties"], map.objectValue != nil { out += description(map) }
        return out
    }

    private func externalDocs(_ schema: JSONValue) -> String? {
        guard let docs = schema["externalDocs"], docs.objectValue != nil else { return nil }
        var out = "EXTERNAL DOCS:\n"
        if let d = docs["description"]?.stringValue, !d.isEmpty { out += Self.indent(Self.wrap(d, 76), 4) + "\n" }
        if let u = docs["url"]?.stringValue, !u.isEmpty { out += Self.indent("URL: " + u, 4) + "\n" }
        return out
    }

    private func fieldList(_ schema: JSONValue, level: Int, history: Set<String>) -> String {
        let ref = schema["$ref"]?.stringValue ?? ""
        if !ref.isEmpty && history.contains(ref) { return "" }
        var seen = history
        seen.insert(ref)
        let resolved = resolve(ref) ?? schema
        var out = ""
        let properties = resolved["properties"]?.objectValue ?? [:]
        for name in properties.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            out += fieldDetail(name, in: resolved, level: level)
            if recursive, let sub = properties[name] { out += fieldList(sub, level: level + 1, history: seen) }
        }
        for alternative in resolved["allOf"]?.arrayValue ?? [] { out += fieldList(alternative, level: level, history: seen) }
        if let items = resolved["items"] { out += fieldList(items, level: level, history: seen) }
        if let map = resolved["additionalProperties"], map.objectValue != nil { out += fieldList(map, level: level, history: seen) }
        return out
    }

    private func fieldDetail(_ name: String, in schema: JSONValue, level: Int) -> String {
        let amount = level * 2
        let field = schema["properties"]?[name] ?? .null
        let required = (schema["required"]?.arrayValue ?? []).contains(.string(name))
        var out = Self.indent(name, amount) + "\t<\(typeGuess(field))>" + (required ? " -required-" : "")
        out += extractEnum(field, long: false, limit: 4, indent: amount) + "\n"
        guard !recursive else { return out }
        out += Self.indent(Self.wrap(field["description"]?.stringValue?.nonEmpty ?? "<no description>", 78 - amount), amount + 2) + "\n"
        if let docs = field["externalDocs"], docs.objectValue != nil {
            out += "\n" + Self.indent("EXTERNAL DOCS:", amount + 2) + "\n"
            if let d = docs["description"]?.stringValue, !d.isEmpty { out += Self.indent(Self.wrap(d, 76 - amount), amount + 4) + "\n" }
            if let u = docs["url"]?.stringValue, !u.isEmpty { out += Self.indent("URL: " + u, amount + 4) + "\n" }
        }
        return out + "\n"
    }

    /// `string`, `Object`, `[]Container`, `map[string]string`: kubectl's type hint.
    func typeGuess(_ schema: JSONValue) -> String {
        if let items = schema["items"] { return "[]" + typeGuess(items) }
        if let map = schema["additionalProperties"], map.objectValue != nil { return "map[string]" + typeGuess(map) }
        if let all = schema["allOf"]?.arrayValue, all.count == 1, schema["properties"] == nil { return typeGuess(all[0]) }
        if let ref = schema["$ref"]?.stringValue {
            let target = resolve(ref)
            let type = target?["type"]?.stringValue ?? ""
            if target == nil || type.isEmpty || type == "object" {
                let name = ref.split(separator: "/").last.map(String.init) ?? ""
                return name.split(separator: ".").last.map(String.init) ?? "Object"
            }
            return type
        }
        let type = schema["type"]?.stringValue ?? ""
        return type.isEmpty || type == "object" ? "Object" : type
    }

    private func extractEnum(_ schema: JSONValue, long: Bool, limit: Int, indent: Int) -> String {
        guard let values = schema["enum"]?.arrayValue, !values.isEmpty else { return "" }
        var out = long ? "ENUM:" : "\n" + String(repeating: " ", count: indent) + "enum: "
        for (i, value) in values.enumerated() {
            if limit > -1 && i >= limit { out += ", ...."; break }
            if long { out += "\n    " } else if i > 0 { out += ", " }
            let text = value.stringValue ?? JSONWriter.string(value)
            out += text.isEmpty && value.stringValue != nil ? "\"\"" : text
        }
        return out
    }

    /// Every line prefixed with `n` spaces (an empty last line too, as sprig's `indent` does).
    static func indent(_ text: String, _ n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return pad + text.replacingOccurrences(of: "\n", with: "\n" + pad)
    }

    /// Word wrap at `width` characters as kubectl's explain does it: existing newlines stay,
    /// a line breaks before the word that would pass the limit (spaces there are dropped), and
    /// a word longer than the limit stays whole.
    static func wrap(_ text: String, _ width: Int) -> String {
        var out = "", word = "", spaces = ""
        var current = 0
        for char in text.unicodeScalars {
            if char == "\n" {
                if word.isEmpty {
                    if current + spaces.unicodeScalars.count <= width { out += spaces }
                } else {
                    out += spaces + word
                }
                spaces = ""; word = ""
                out.unicodeScalars.append(char)
                current = 0
            } else if char.properties.isWhitespace && char != "\u{00A0}" {
                if spaces.isEmpty || !word.isEmpty {
                    current += spaces.unicodeScalars.count + word.unicodeScalars.count
                    out += spaces + word
                    spaces = ""; word = ""
                }
                spaces.unicodeScalars.append(char)
            } else {
                word.unicodeScalars.append(char)
                let wordLength = word.unicodeScalars.count
                if current + spaces.unicodeScalars.count + wordLength > width && wordLength < width {
                    out += "\n"
                    current = 0
                    spaces = ""
                }
            }
        }
        if word.isEmpty {
            if current + spaces.unicodeScalars.count <= width { out += spaces }
        } else {
            out += spaces + word
        }
        return out
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
