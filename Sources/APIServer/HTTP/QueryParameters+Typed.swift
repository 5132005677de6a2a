import KubeModel

/// Typed reads of query parameters, answering 400 the way kube-apiserver does for a bad value.
extension QueryParameters {
    /// Go's strconv.ParseBool: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False.
    public func bool(_ key: String) throws(APIError) -> Bool {
        guard let v = self[key] else { return false }
        switch v {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False", "": return false
        default: throw APIError.badRequest("invalid boolean value \"\(v)\" for query parameter \(key)")
        }
    }

    public func int(_ key: String) throws(APIError) -> Int64? {
        guard let v = self[key], !v.isEmpty else { return nil }
        guard let i = Int64(v) else { throw APIError.badRequest("invalid integer value \"\(v)\" for query parameter \(key)") }
        return i
    }
}
