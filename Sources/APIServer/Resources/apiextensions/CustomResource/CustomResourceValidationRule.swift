import Foundation
import KubeModel

/// One `x-kubernetes-validations` entry of a schema node, compiled: the rule, its optional
/// `messageExpression`, and how a failure is reported (`message`, `reason`, `fieldPath`).
struct CustomResourceValidationRule: Sendable {
    let rule: CELProgram
    let message: String?
    let messageExpression: CELProgram?
    /// `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired` or `FieldValueDuplicate`.
    let reason: String?
    /// Where failures point, relative to the node (`.spec.max`, `['key']`); already split into a path suffix.
    let fieldPath: String
    let optionalOldSelf: Bool

    /// The variables a rule may use.
    static let variables: Set<String> = ["self", "oldSelf"]
    static let reasons = ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]

    /// A transition rule compares with the previous value and only runs on updates.
    var isTransition: Bool { rule.references.contains("oldSelf") }

    /// Compiles one entry; the errors name `path` (`...x-kubernetes-validations[i]`) as kube-apiserver does.
    static func compile(_ entry: JSONValue, path: String) -> (rule: CustomResourceValidationRule?, errors: [FieldError]) {
        let source = entry["rule"]?.stringValue ?? ""
        let shown = goStruct(entry)
        var errs: [FieldError] = []
        if source.trimmingCharacters(in: .whitespaces).isEmpty {
            return (nil, [.required("\(path).rule", "rule is not specified")])
        }
        var program: CELProgram?
        do { program = try CELProgram.compile(source, variables: variables) } catch {
            errs.append(.invalid("\(path).rule", shown, "compilation failed: \(error.description)"))
        }
        var messageProgram: CELProgram?
        if let m = entry["messageExpression"]?.stringValue, !m.isEmpty {
            do { messageProgram = try CELProgram.compile(m, variables: variables) } catch {
                errs.append(.invalid("\(path).messageExpression", shown, "messageExpression compilation failed: \(error.description)"))
            }
        }
        if let m = entry["message"]?.stringValue, m.contains("\n") {
            errs.append(.invalid("\(path).message", "\"\(m)\"", "message must not contain line breaks"))
        }
        let reason = entry["reason"]?.stringValue
        if let reason, !reasons.contains(reason) {
            errs.append(.notSupported("\(path).reason", "\"\(reason)\"", reasons))
        }
        let fieldPath = entry["fieldPath"]?.stringValue ?? ""
        guard let suffix = fieldPathSuffix(fieldPath) else {
            errs.append(.invalid("\(path).fieldPath", "\"\(fieldPath)\"", "fieldPath must be a valid path"))
            return (nil, errs)
        }
        let optionalOldSelf = entry["optionalOldSelf"]?.boolValue == true
        if optionalOldSelf, let program, !program.references.contains("oldSelf") {
            errs.append(.invalid("\(path).optionalOldSelf", "true", "may not be set if oldSelf is not used in rule"))
        }
        guard errs.isEmpty, let program else { return (nil, errs) }
        return (CustomResourceValidationRule(
            rule: program, message: entry["message"]?.stringValue, messageExpression: messageProgram,
            reason: reason, fieldPath: suffix, optionalOldSelf: optionalOldSelf), [])
    }

    /// `.spec.max` -> `.spec.max`, `['a.b']` -> `[a.b]`: the suffix appended to the node's path.
    /// Nil for text that is not a path of field names and quoted keys.
    static func fieldPathSuffix(_ path: String) -> String? {
        var out = ""
        var rest = Substring(path)
        while let c = rest.first {
            if c == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
                guard !name.isEmpty else { return nil }
                out += ".\(name)"
                rest = rest.dropFirst(name.count)
            } else if rest.hasPrefix("['") {
                rest = rest.dropFirst(2)
                guard let end = rest.range(of: "']") else { return nil }
                out += "[\(rest[..<end.lowerBound])]"
                rest = rest[end.upperBound...]
            } else {
                return nil
            }
        }
        return out
    }

    /// How Go's `%#v` shows the rule in a compile error, as kube-apiserver prints it.
    static func goStruct(_ entry: JSONValue) -> String {
        func q(_ key: String) -> String { "\"" + (entry[key]?.stringValue ?? "").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        let reason = entry["reason"]?.stringValue.map { "(*apiextensions.FieldValueErrorReason)(\"\($0)\")" }
            ?? "(*apiextensions.FieldValueErrorReason)(nil)"
        let optional = entry["optionalOldSelf"]?.boolValue.map { "(*bool)(\($0))" } ?? "(*bool)(nil)"
        return "apiextensions.ValidationRule{Rule:\(q("rule")), Message:\(q("message")), MessageExpression:\(q("messageExpression")), "
            + "Reason:\(reason), FieldPath:\(q("fieldPath")), OptionalOldSelf:\(optional)}"
    }
}
