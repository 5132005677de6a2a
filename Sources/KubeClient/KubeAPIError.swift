import KubeModel

/// A non-2xx answer from the API server, decoded from its `Status` body when it sent one.
public struct KubeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status code (or the Status `code`, which servers keep equal to it).
    public var code: Int
    /// Machine-readable reason, e.g. `NotFound`, `AlreadyExists`, `Conflict`.
    public var reason: String
    /// Human-readable message.
    public var message: String
    /// The full `Status` object, when the body was one.
    public var status: JSONValue?

    /// An error with explicit fields.
    public init(code: Int, reason: String, message: String, status: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status
    }

    /// Builds the error from a response body: a `Status` object if it parses as one, otherwise the
    /// HTTP reason phrase and the (truncated) body text.
    public init(httpCode: Int, httpReason: String, body: [UInt8]) {
        if let value = try? JSONParser.parse(body), value["kind"]?.stringValue == "Status" {
            self.init(status: value, httpCode: httpCode, httpReason: httpReason)
            return
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self)
        self.init(code: httpCode, reason: httpReason.filter { $0 != " " },
                  message: text.isEmpty ? httpReason : text, status: nil)
    }

    /// Builds the error from a `Status` object; HTTP values fill in what it leaves out.
    public init(status: JSONValue, httpCode: Int, httpReason: String) {
        let code = status["code"]?.intValue.map { Int($0) } ?? httpCode
        let reason = status["reason"]?.stringValue ?? httpReason.filter { $0 != " " }
        self.init(code: code, reason: reason, message: status["message"]?.stringValue ?? "", status: status)
    }

    /// 404: the object (or namespace) does not exist.
    public var isNotFound: Bool { code == 404 }
    /// 409 Conflict: a stale `resourceVersion`; re-read and retry.
    public var isConflict: Bool { code == 409 && reason == "Conflict" }
    /// 409 AlreadyExists: a create hit an existing name.
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    /// 410: the requested resource version is no longer available; relist.
    public var isGone: Bool { code == 410 }

    public var description: String { "\(code) \(reason): \(message)" }
}
