import KubeModel

extension APIError {
    /// 400 for a query parameter that does not parse, worded as kube-apiserver does.
    init(_ error: QueryParameterError) {
        self = .badRequest(error.message)
    }
}
