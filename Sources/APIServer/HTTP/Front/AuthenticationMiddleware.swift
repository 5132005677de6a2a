import Hummingbird
import KubeModel

/// Who is calling (client certificate, bearer token, or anonymous where allowed) and, with
/// `Impersonate-*` headers, whom the request runs as. Health and version stay public so probes
/// and load balancers need no credentials.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let authenticator: Authenticator
    let authorizer: any Authorizer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let record = try context.requireRecord()
        if !Authenticator.isPublic(record.parsed.path) {
            guard let caller = await authenticator.authenticate(authorization: request.headers[.authorization],
                                                                certificateSubject: { await context.certificateSubject() })
                    ?? Authenticator.anonymousUser(method: request.method.rawValue, path: record.parsed.path) else {
                throw APIError.unauthorized
            }
            record.caller = caller
            record.user = try await Impersonation.resolve(request, caller: caller, authorizer: authorizer)
        }
        return try await next(request, context)
    }
}
