/// A query parameter whose value does not parse as the type asked for. Neutral: each server
/// answers it with its own 400 (a `Status` from the API server, plain text from the kubelet).
public struct QueryParameterError: Error, Sendable, Equatable {
    public let key: String
    public let value: String
    /// `boolean` or `integer`.
    public let expected: String

    /// Go's wording, as both kube-apiserver and the kubelet answer it.
    public var message: String { "invalid \(expected) value \"\(value)\" for query parameter \(key)" }
}

/// Typed reads of query parameters, as Go's strconv parses them.
extension QueryParameters {
    /// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False; absent
    /// or empty is false.
    public func bool(_ key: String) throws(QueryParameterError) -> Bool {
        guard let v = self[key] else { return false }
        switch v {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False", "": return false
        default: throw QueryParameterError(key: key, value: v, expected: "boolean")
        }
    }

    /// A base-10 integer; nil when absent or empty.
    public func int(_ key: String) throws(QueryParameterError) -> Int64? {
        guard let v = self[key], !v.isEmpty else { return nil }
        guard let i = Int64(v) else { throw QueryParameterError(key: key, value: v, expected: "integer") }
        return i
    }
}
