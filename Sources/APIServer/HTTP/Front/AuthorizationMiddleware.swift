import Hummingbird
import KubeModel

/// A query that does not parse is a 400 before anything reads it; then the caller must be
/// allowed the request (node authorizer, RBAC): 403 as kube-apiserver words it. Public paths
/// need no authorization.
struct AuthorizationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let authorizer: any Authorizer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let record = try context.requireRecord()
        let parsed = record.parsed
        if let bad = parsed.query.malformed { throw APIError.badRequest(bad) }
        if let user = record.user {
            var attributes: RequestAttributes
            if let info = parsed.info {
                attributes = .resource(user: user, method: request.method.rawValue, info: info, watch: parsed.watchParameter)
                // An authorizer may judge a list by its field selector.
                attributes.fieldSelector = parsed.query["fieldSelector"] ?? ""
            } else {
                attributes = RequestAttributes(user: user, verb: request.method == .head ? "get" : request.method.rawValue.lowercased(),
                                               path: parsed.path)
            }
            let decision = await authorizer.authorize(attributes)
            if !decision.allowed { throw APIError.forbidden(attributes, reason: decision.reason) }
        }
        return try await next(request, context)
    }
}
