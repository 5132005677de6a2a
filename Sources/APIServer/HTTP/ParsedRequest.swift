import Hummingbird
import KubeModel

/// What every step of the front reads about a request (authentication, in-flight limits,
/// authorization, audit, metrics, the resource endpoint), parsed once when it arrives.
struct ParsedRequest: Sendable {
    let path: String
    let query: QueryParameters
    /// The resource addressed; nil for discovery, health and other non-resource paths.
    let info: RequestInfo?
    /// `watch=true` in the query (nil when malformed: the request is refused with 400 later).
    let watchParameter: Bool
    /// A watch: a GET with `watch=true` or on the legacy `/watch/` path. Long-running, so it
    /// counts against the per-user watch cap instead of the in-flight pools.
    let isWatch: Bool

    init(_ request: Request) {
        path = request.uri.path
        query = QueryParameters(request.uri.query)
        info = RequestInfo.parse(path: path)
        watchParameter = (try? query.bool("watch")) ?? false
        isWatch = request.method == .get && (info?.legacyWatch == true || watchParameter)
    }
}
