/// One validation failure, as Kubernetes' `field.Error`: it becomes a `StatusCause` of a 422.
public struct FieldError: Sendable, Hashable, Error {
    public enum Kind: String, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case notFound = "FieldValueNotFound"
        case typeInvalid = "FieldValueTypeInvalid"
    }

    public var kind: Kind
    /// Dotted field path, e.g. `spec.template.spec.containers[0].name`.
    public var field: String
    /// The offending value, rendered as Kubernetes does (strings quoted); nil when not shown.
    public var value: String?
    public var detail: String

    public init(_ kind: Kind, _ field: String, value: String? = nil, _ detail: String = "") {
        self.kind = kind
        self.field = field
        self.value = value
        self.detail = detail
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(.required, field, detail)
    }
    public static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(.invalid, field, value: value, detail)
    }
    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(.forbidden, field, detail)
    }
    public static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> FieldError {
        let list = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return FieldError(.notSupported, field, value: value, "supported values: \(list)")
    }
    public static func duplicate(_ field: String, _ value: String) -> FieldError {
        FieldError(.duplicate, field, value: value)
    }

    /// The message Kubernetes prints for this error, e.g. `spec.replicas: Invalid value: -1: must be ...`.
    public var message: String {
        var m = "\(field): "
        switch kind {
        case .required: m += "Required value"
        case .invalid: m += "Invalid value"
        case .notSupported: m += "Unsupported value"
        case .duplicate: m += "Duplicate value"
        case .forbidden: m += "Forbidden"
        case .tooLong: m += "Too long"
        case .tooMany: m += "Too many"
        case .notFound: m += "Not found"
        case .typeInvalid: m += "Invalid value"
        }
        if let value { m += ": \(value)" }
        if !detail.isEmpty { m += ": \(detail)" }
        return m
    }
}

extension FieldError {
    /// Renders a value as Kubernetes shows it in messages: strings quoted, numbers bare.
    public static func show(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return "\"\(s)\""
        case .int(let i)?: return String(i)
        case .double(let d)?: return String(d)
        case .bool(let b)?: return String(b)
        case .none, .null?: return "null"
        default: return "{...}"
        }
    }
}
