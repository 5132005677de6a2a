import KubeModel

/// A CustomResourceDefinition version's `selectableFields`: simple JSON paths to scalar fields of
/// its schema that field selectors may use, named by the path without its leading dot
/// (`.spec.color` is selected as `spec.color=blue`), as kube-apiserver serves them.
struct CustomResourceSelectableFields: Sendable {
    /// Kubernetes' limit on selectable fields per version.
    static let maxFields = 8

    /// Selector name → the path's property names.
    let paths: [String: [String]]

    init(version: JSONValue) {
        var paths: [String: [String]] = [:]
        for entry in version["selectableFields"]?.arrayValue ?? [] {
            guard let raw = entry["jsonPath"]?.stringValue, let steps = Self.steps(raw) else { continue }
            paths[steps.joined(separator: ".")] = steps
        }
        self.paths = paths
    }

    /// The field's value for a selector: strings as they are, integers and booleans as text, ""
    /// when the object lacks it; nil when the field is not selectable.
    func value(_ field: String, of object: JSONValue) -> String?? {
        guard let steps = paths[field] else { return nil }
        var current: JSONValue? = object
        for step in steps { current = current?[step] }
        switch current {
        case .string(let s)?: return .some(s)
        case .int(let n)?: return .some(String(n))
        case .double(let d)? where d.rounded() == d: return .some(String(Int64(d)))
        case .bool(let b)?: return .some(b ? "true" : "false")
        default: return .some("")
        }
    }

    /// The property names of a simple path (`.spec.a.b`); nil for anything else (array
    /// notation, filters, empty segments).
    static func steps(_ path: String) -> [String]? {
        guard path.hasPrefix(".") else { return nil }
        let steps = path.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let allowed = /^[A-Za-z_$][A-Za-z0-9_$-]*$/
        guard !steps.isEmpty, steps.allSatisfy({ $0.wholeMatch(of: allowed) != nil }) else { return nil }
        return steps
    }

    /// kube-apiserver's checks of one version's `selectableFields` against its schema: each a
    /// simple path to a string, boolean or integer property outside metadata, no duplicates,
    /// at most `maxFields`.
    static func validate(_ fields: [JSONValue], schema: JSONValue?, path: String) -> [FieldError] {
        var errs: [FieldError] = []
        var unique: [String] = []
        for (i, entry) in fields.enumerated() {
            let at = "\(path)[\(i)].jsonPath"
            guard let raw = entry["jsonPath"]?.stringValue, !raw.isEmpty else {
                errs.append(.required(at))
                continue
            }
            let shown = FieldError.show(.string(raw))
            guard let steps = steps(raw) else {
                errs.append(.invalid(at, shown, "is an invalid path: must be a simple path of property names, such as .spec.field"))
                continue
            }
            guard let schema, let target = property(steps, in: schema) else {
                errs.append(.invalid(at, shown, "is an invalid path: does not refer to a valid field"))
                continue
            }
            if steps.first == "metadata" {
                errs.append(.invalid(at, shown, "must not point to fields in metadata"))
            }
            if !["string", "boolean", "integer"].contains(target["type"]?.stringValue ?? "") {
                errs.append(.invalid(at, shown, "must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."))
            }
            let key = steps.joined(separator: ".")
            if unique.contains(key) { errs.append(.duplicate(at, shown)) } else { unique.append(key) }
        }
        if unique.count > maxFields {
            errs.append(FieldError(.tooMany, path, value: String(unique.count), "must have at most \(maxFields) items"))
        }
        return errs
    }

    /// The schema of the property `steps` names, through `properties` (metadata counts as an
    /// object with its usual string fields, as it is never declared in full).
    private static func property(_ steps: [String], in schema: JSONValue) -> JSONValue? {
        var current = schema
        for (i, step) in steps.enumerated() {
            if i == 0, step == "metadata", schema[path: ["properties", "metadata", "properties"]] == nil {
                let known = steps.count == 2 && ["name", "namespace", "generateName", "uid"].contains(steps[1])
                return known ? JSONValue.object(["type": .string("string")]) : nil
            }
            guard let next = current[path: ["properties", step]] else { return nil }
            current = next
        }
        return current
    }
}
