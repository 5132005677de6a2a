import KubeModel

/// A failed request, answered as a `metav1.Status` with the matching HTTP code and reason.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: JSONValue?
    /// Extra response headers (e.g. Retry-After).
    public var headers: [(String, String)] = []

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var status: JSONValue {
        var s: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .int(Int64(code)),
        ]
        if reason.isEmpty { s["reason"] = nil }  // metav1.StatusReasonUnknown is omitted
        if let details { s["details"] = details }
        return s
    }

    static func details(_ def: ResourceDefinition, _ name: String?) -> JSONValue {
        var d: JSONValue = ["kind": .string(def.plural)]
        if let name { d["name"] = .string(name) }
        if !def.group.isEmpty { d["group"] = .string(def.group) }
        return d
    }

    public static func notFound(_ def: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(def.groupResource) \"\(name)\" not found", details: details(def, name))
    }

    public static func alreadyExists(_ def: ResourceDefinition, _ name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(def.groupResource) \"\(name)\" already exists", details: details(def, name))
    }

    public static func conflict(_ def: ResourceDefinition, _ name: String, _ why: String) -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(def.groupResource) \"\(name)\": \(why)",
                 details: details(def, name))
    }

    public static let modifiedConflict = "the object has been modified; please apply your changes to the latest version and try again"

    public static func invalid(_ def: ResourceDefinition, _ name: String, _ errors: [FieldError]) -> APIError {
        let causes: [JSONValue] = errors.map { e in
            var c: JSONValue = ["reason": .string(e.kind.rawValue), "message": .string(String(e.message.dropFirst(e.field.count + 2))), "field": .string(e.field)]
            if e.field.isEmpty { c["field"] = nil; c["message"] = .string(e.message) }
            return c
        }
        let list = errors.map(\.message)
        let summary = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        var d = details(def, name)
        d["kind"] = .string(def.kind)
        d["causes"] = .array(causes)
        return APIError(code: 422, reason: "Invalid", message: "\(def.qualifiedKind) \"\(name)\" is invalid: \(summary)", details: d)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func forbidden(_ def: ResourceDefinition, _ name: String, _ why: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: "\(def.groupResource) \"\(name)\" is forbidden: \(why)", details: details(def, name))
    }

    public static func methodNotSupported(_ def: ResourceDefinition?, _ verb: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource",
                 details: .object([:]))
    }

    /// kube-apiserver's generic 404 carries an empty `details`; kubectl reads it (e.g. `kubectl debug`).
    public static func pathNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: .object([:]))
    }

    public static func unsupportedMediaType(_ type: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got \(type))")
    }

    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static func tooLarge() -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is 3145728")
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    public static func timeout(_ message: String) -> APIError {
        APIError(code: 504, reason: "Timeout", message: message)
    }

    /// kube-apiserver's answer to a resourceVersion its store has not reached after waiting:
    /// 504 with the `ResourceVersionTooLarge` cause, which client-go's reflector retries.
    public static func tooLargeResourceVersion(_ requested: Int64, current: Int64) -> APIError {
        var e = APIError(code: 504, reason: "Timeout", message: "Timeout: Too large resource version: \(requested), current: \(current)",
                         details: ["causes": [["reason": "ResourceVersionTooLarge", "message": "Too large resource version"]],
                                   "retryAfterSeconds": 1])
        e.headers = [("Retry-After", "1")]
        return e
    }
}
