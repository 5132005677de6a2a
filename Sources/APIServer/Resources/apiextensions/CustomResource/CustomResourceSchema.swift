import Foundation
import KubeModel

/// A CustomResourceDefinition version's `openAPIV3Schema`, applied to custom resources as
/// kube-apiserver does: unknown fields pruned (unless `x-kubernetes-preserve-unknown-fields`),
/// `default`s filled, then validated with kube-openapi's messages naming the field.
struct CustomResourceSchema: Sendable {
    let root: JSONValue
    /// The schema's `x-kubernetes-validations`, compiled.
    let rules: CustomResourceValidationRules

    init(_ root: JSONValue) {
        self.root = root
        rules = CustomResourceValidationRules(schema: root)
    }

    /// Fields every object keeps whatever the schema says.
    static let rootFields: Set<String> = ["apiVersion", "kind", "metadata"]

    // MARK: pruning and defaults

    /// Drops fields the schema does not declare; returns their paths.
    @discardableResult
    func prune(_ object: inout JSONValue) -> [String] {
        var dropped: [String] = []
        Self.prune(&object, root, path: "", isRoot: true, dropped: &dropped)
        return dropped
    }

    private static func prune(_ value: inout JSONValue, _ schema: JSONValue, path: String, isRoot: Bool, dropped: inout [String]) {
        if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true && schema["properties"] == nil
            && schema["additionalProperties"] == nil && schema["items"] == nil { return }
        if schema["x-kubernetes-embedded-resource"]?.boolValue == true, isRoot == false {
            // apiVersion, kind and metadata of an embedded object are kept like a root's.
            prune(&value, schema, path: path, isRoot: true, dropped: &dropped)
            return
        }
        switch value {
        case .object(var fields):
            let properties = schema["properties"]?.objectValue ?? [:]
            let additional = schema["additionalProperties"]
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true
            for key in Array(fields.keys) {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if isRoot && rootFields.contains(key) { continue }
                if let sub = properties[key] {
                    prune(&fields[key]!, sub, path: child, isRoot: false, dropped: &dropped)
                } else if let additional, additional.objectValue != nil {
                    prune(&fields[key]!, additional, path: child, isRoot: false, dropped: &dropped)
                } else if additional?.boolValue == true || preserve {
                    continue
                } else {
                    fields[key] = nil
                    dropped.append(child)
                }
            }
            value = .object(fields)
        case .array(var items):
            guard let itemSchema = schema["items"], itemSchema.objectValue != nil else { return }
            for i in items.indices { prune(&items[i], itemSchema, path: "\(path)[\(i)]", isRoot: false, dropped: &dropped) }
            value = .array(items)
        default:
            return
        }
    }

    /// Fills `default`s of absent properties, inside objects that are present (as Kubernetes:
    /// a default on `spec.x` applies only when `spec` exists, unless `spec` has its own default).
    func applyDefaults(_ object: inout JSONValue) { Self.defaults(&object, root) }

    private static func defaults(_ value: inout JSONValue, _ schema: JSONValue) {
        switch value {
        case .object(var fields):
            for (key, sub) in schema["properties"]?.objectValue ?? [:] {
                if fields[key] == nil, let d = sub["default"] { fields[key] = d }
                if fields[key] != nil { defaults(&fields[key]!, sub) }
            }
            if let additional = schema["additionalProperties"], additional.objectValue != nil {
                for key in Array(fields.keys) where schema["properties"]?[key] == nil { defaults(&fields[key]!, additional) }
            }
            value = .object(fields)
        case .array(var items):
            guard let itemSchema = schema["items"], itemSchema.objectValue != nil else { return }
            for i in items.indices { defaults(&items[i], itemSchema) }
            value = .array(items)
        default:
            return
        }
    }

    // MARK: validation

    /// The schema's checks, then its CEL rules (with `old` on an update, for transition rules).
    /// As kube-apiserver, the rules are skipped when a value has the wrong type.
    func validate(_ object: JSONValue, old: JSONValue? = nil) -> [FieldError] {
        var errs: [FieldError] = []
        Self.check(object, root, path: "", isRoot: true, into: &errs)
        guard !rules.isEmpty else { return errs }
        if errs.contains(where: { $0.kind == .typeInvalid }) {
            errs.append(.invalid("<nil>", "null", "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
            return errs
        }
        return errs + rules.validate(object, old: old, schema: root)
    }

    private static func typeName(of v: JSONValue) -> String {
        switch v {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d.rounded() == d ? "integer" : "number"
        case .null: return "null"
        }
    }

    private static func matches(_ v: JSONValue, type: String) -> Bool {
        switch (type, v) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("integer", .int): return true
        case ("integer", .double(let d)): return d.rounded() == d
        case ("number", .int), ("number", .double): return true
        default: return false
        }
    }

    private static func check(_ v: JSONValue, _ s: JSONValue, path: String, isRoot: Bool, into errs: inout [FieldError]) {
        let name = path.isEmpty ? "body" : path
        let field = path.isEmpty ? "<root>" : path
        let shown = FieldError.show(v)
        if case .null = v {
            if s["nullable"]?.boolValue == true { return }
            if isRoot { return }
            errs.append(FieldError(.typeInvalid, field, value: "null", "\(name) in body must be of type \(s["type"]?.stringValue ?? "object"): \"null\""))
            return
        }
        if s["x-kubernetes-int-or-string"]?.boolValue == true {
            if !matches(v, type: "integer") && !matches(v, type: "string") {
                errs.append(FieldError(.typeInvalid, field, value: shown, "\(name) in body must be of type integer-or-string: \(shown)"))
                return
            }
        } else if let type = s["type"]?.stringValue, !matches(v, type: type) {
            // kube-apiserver shows the value's type, not the value, in a type error.
            let actual = typeName(of: v)
            errs.append(FieldError(.typeInvalid, field, value: "\"\(actual)\"", "\(name) in body must be of type \(type): \"\(actual)\""))
            return
        }
        if let allowed = s["enum"]?.arrayValue, !allowed.isEmpty, !allowed.contains(v) {
            errs.append(.notSupported(field, shown, allowed.map { $0.stringValue ?? FieldError.show($0) }))
        }
        checkBounds(v, s, name: name, field: field, shown: shown, into: &errs)
        for sub in s["allOf"]?.arrayValue ?? [] { check(v, sub, path: path, isRoot: isRoot, into: &errs) }
        if let any = s["anyOf"]?.arrayValue, !any.isEmpty {
            let ok = any.contains { sub in var e: [FieldError] = []; check(v, sub, path: path, isRoot: isRoot, into: &e); return e.isEmpty }
            if !ok { errs.append(.invalid(field, shown, "\(name) in body must validate at least one schema (anyOf)")) }
        }
        if let one = s["oneOf"]?.arrayValue, !one.isEmpty {
            let n = one.filter { sub in var e: [FieldError] = []; check(v, sub, path: path, isRoot: isRoot, into: &e); return e.isEmpty }.count
            if n != 1 { errs.append(.invalid(field, shown, "\(name) in body must validate one and only one schema (oneOf)")) }
        }
        if let not = s["not"], not.objectValue != nil {
            var e: [FieldError] = []
            check(v, not, path: path, isRoot: isRoot, into: &e)
            if e.isEmpty { errs.append(.invalid(field, shown, "\(name) in body should not match the schema (not)")) }
        }
        switch v {
        case .object(let fields):
            for key in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where fields[key] == nil {
                errs.append(.required(path.isEmpty ? key : "\(path).\(key)"))
            }
            let properties = s["properties"]?.objectValue ?? [:]
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                if isRoot && rootFields.contains(key) { continue }
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let sub = properties[key] {
                    check(value, sub, path: child, isRoot: false, into: &errs)
                } else if let additional = s["additionalProperties"], additional.objectValue != nil {
                    check(value, additional, path: child, isRoot: false, into: &errs)
                }
            }
            if let max = s["maxProperties"]?.intValue, fields.count > max {
                errs.append(FieldError(.tooMany, field, value: String(fields.count), "must have at most \(max) items"))
            }
            if let min = s["minProperties"]?.intValue, fields.count < min {
                errs.append(.invalid(field, String(fields.count), "\(name) in body should have at least \(min) properties"))
            }
        case .array(let items):
            if let itemSchema = s["items"], itemSchema.objectValue != nil {
                for (i, item) in items.enumerated() { check(item, itemSchema, path: "\(path)[\(i)]", isRoot: false, into: &errs) }
            }
            if let max = s["maxItems"]?.intValue, items.count > max {
                errs.append(FieldError(.tooMany, field, value: String(items.count), "must have at most \(max) items"))
            }
            if let min = s["minItems"]?.intValue, items.count < min {
                errs.append(.invalid(field, String(items.count), "\(name) in body should have at least \(min) items"))
            }
            if s["uniqueItems"]?.boolValue == true || ["set", "map"].contains(s["x-kubernetes-list-type"]?.stringValue ?? "") {
                checkUnique(items, s, field: field, into: &errs)
            }
        default:
            break
        }
    }

    private static func checkBounds(_ v: JSONValue, _ s: JSONValue, name: String, field: String, shown: String, into errs: inout [FieldError]) {
        if let n = v.doubleValue ?? v.intValue.map(Double.init), v.stringValue == nil {
            let exclusiveMin = s["exclusiveMinimum"]?.boolValue == true
            let exclusiveMax = s["exclusiveMaximum"]?.boolValue == true
            if let min = s["minimum"].flatMap({ $0.doubleValue ?? $0.intValue.map(Double.init) }), exclusiveMin ? n <= min : n < min {
                errs.append(.invalid(field, shown, "\(name) in body should be greater than \(exclusiveMin ? "" : "or equal to ")\(number(min))"))
            }
            if let max = s["maximum"].flatMap({ $0.doubleValue ?? $0.intValue.map(Double.init) }), exclusiveMax ? n >= max : n > max {
                errs.append(.invalid(field, shown, "\(name) in body should be less than \(exclusiveMax ? "" : "or equal to ")\(number(max))"))
            }
            if let m = s["multipleOf"].flatMap({ $0.doubleValue ?? $0.intValue.map(Double.init) }), m > 0,
               (n / m).rounded() != n / m {
                errs.append(.invalid(field, shown, "\(name) in body should be a multiple of \(number(m))"))
            }
        }
        if let str = v.stringValue {
            let length = str.count
            if let max = s["maxLength"]?.intValue, length > max {
                errs.append(FieldError(.tooLong, field, value: shown, "may not be more than \(max) bytes"))
            }
            if let min = s["minLength"]?.intValue, length < min {
                errs.append(.invalid(field, shown, "\(name) in body should be at least \(min) chars long"))
            }
            if let pattern = s["pattern"]?.stringValue {
                if let re = try? NSRegularExpression(pattern: pattern),
                   re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil {
                    errs.append(.invalid(field, shown, "\(name) in body should match '\(pattern)'"))
                }
            }
        }
    }

    private static func checkUnique(_ items: [JSONValue], _ s: JSONValue, field: String, into errs: inout [FieldError]) {
        let keys = s["x-kubernetes-list-map-keys"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var seen: [JSONValue] = []
        for (i, item) in items.enumerated() {
            let identity: JSONValue = keys.isEmpty ? item : .array(keys.map { item[$0] ?? .null })
            if seen.contains(identity) { errs.append(.duplicate("\(field)[\(i)]", FieldError.show(identity))) }
            seen.append(identity)
        }
    }

    private static func number(_ d: Double) -> String { d.rounded() == d ? String(Int64(d)) : String(d) }
}
