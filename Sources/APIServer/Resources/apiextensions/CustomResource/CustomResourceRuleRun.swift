import Foundation
import KubeModel

/// One pass of a custom resource's CEL rules over an object: binds `self`/`oldSelf` per node,
/// turns false results and errors into field errors, and stops after the cost limit is hit.
struct CustomResourceRuleRun {
    private(set) var errors: [FieldError] = []
    private var stopped = false

    mutating func walk(_ value: JSONValue, _ old: JSONValue?, _ node: CustomResourceValidationRules.Node, _ schema: JSONValue, path: String) {
        if stopped || value.isNull { return }
        if !node.rules.isEmpty {
            let celValue = Self.celValue(value, schema)
            let celOld = old.map { Self.celValue($0, schema) }
            for rule in node.rules where !stopped { evaluate(rule, celValue, celOld, node.type, path: path) }
        }
        switch value {
        case .object(let fields):
            for (key, child) in fields.sorted(by: { $0.key < $1.key }) {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let n = node.properties[key], let s = schema[path: ["properties", key]] {
                    walk(child, old?[key], n, s, path: childPath)
                } else if let n = node.additionalProperties, schema["properties"]?[key] == nil, let s = schema["additionalProperties"] {
                    walk(child, old?[key], n, s, path: path.isEmpty ? key : "\(path)[\(key)]")
                }
            }
        case .array(let items):
            guard let n = node.items, let s = schema["items"] else { return }
            for (i, item) in items.enumerated() {
                walk(item, Self.correlate(item, in: old, keys: node.listMapKeys), n, s, path: "\(path)[\(i)]")
            }
        default:
            return
        }
    }

    /// The old element matching `item` by its map keys; only `x-kubernetes-list-type: map` lists correlate.
    private static func correlate(_ item: JSONValue, in old: JSONValue?, keys: [String]?) -> JSONValue? {
        guard let keys, let olds = old?.arrayValue else { return nil }
        return olds.first { o in keys.allSatisfy { o[$0] == item[$0] } }
    }

    private mutating func evaluate(_ rule: CustomResourceValidationRule, _ value: CELValue, _ old: CELValue?, _ type: String, path: String) {
        var bindings: [String: CELValue] = ["self": value]
        if rule.isTransition {
            if rule.optionalOldSelf {
                bindings["oldSelf"] = .optional(old)
            } else {
                guard let old else { return }  // a transition rule needs a previous value
                bindings["oldSelf"] = old
            }
        }
        let field = path.isEmpty ? "<nil>" : path
        let shownType = "\"\(type)\""
        let ruleText = rule.rule.source.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            if try rule.rule.evaluateBool(bindings) { return }
        } catch {
            switch error.kind {
            case .costLimit:
                errors.append(.invalid(field, shownType, "'\(error.description)': no further validation rules will be run due to call cost exceeds limit for rule: \(ruleText)"))
                stopped = true
            default:
                if error.message.hasPrefix("no such overload") {
                    errors.append(.invalid(field, shownType, "'\(error.description)': call arguments did not match a supported operator, function or macro signature for rule: \(ruleText)"))
                } else {
                    errors.append(.invalid(field, shownType, "\(error.description) evaluating rule: \(ruleText)"))
                }
            }
            return
        }
        var detail = rule.message.flatMap { $0.isEmpty ? nil : $0 } ?? "failed rule: \(ruleText)"
        if let m = rule.messageExpression, case .string(let text)? = try? m.evaluate(bindings),
           !text.trimmingCharacters(in: .whitespaces).isEmpty, !text.contains("\n") {
            detail = text
        }
        let target = field == "<nil>" && !rule.fieldPath.isEmpty ? String(rule.fieldPath.dropFirst()) : field + rule.fieldPath
        switch rule.reason {
        case "FieldValueForbidden": errors.append(.forbidden(target, detail))
        case "FieldValueRequired": errors.append(.required(target, detail))
        case "FieldValueDuplicate": errors.append(FieldError(.duplicate, target, value: shownType, detail))
        default: errors.append(.invalid(target, shownType, detail))
        }
    }

    /// The CEL value of a node: integers in `number` fields become doubles, as the schema types them.
    static func celValue(_ v: JSONValue, _ schema: JSONValue) -> CELValue {
        switch v {
        case .int(let i) where schema["type"]?.stringValue == "number": return .double(Double(i))
        case .object(let fields):
            var m = CELMap()
            let props = schema["properties"]?.objectValue
            let additional = schema["additionalProperties"]
            for key in fields.keys.sorted() {
                guard let child = fields[key] else { continue }
                let s = props?[key] ?? (additional?.objectValue != nil ? additional : nil) ?? .object([:])
                m.insert(.string(key), celValue(child, s))
            }
            return .map(m)
        case .array(let items):
            let s = schema["items"] ?? .object([:])
            return .list(items.map { celValue($0, s) })
        default:
            return CELValue(json: v)
        }
    }
}
