import Hummingbird
import KubeModel

/// The outermost step of the front: parses the request once into the context's
/// `RequestRecord`, answers every failure of the steps inside with a Kubernetes `Status`, then
/// counts the request in `/metrics` and records it in the audit log.
struct ObservationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let metrics: RequestMetrics
    /// Nil with `--audit-level None`.
    let audit: AuditLog?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let record = RequestRecord(ParsedRequest(request), method: request.method.rawValue)
        var context = context
        context.record = record
        let response: Response
        do {
            response = try await next(request, context)
        } catch let e as APIError {
            response = ResponseBuilder.error(e)
        } catch let e as QueryParameterError {
            response = ResponseBuilder.error(APIError(e))
        } catch {
            response = ResponseBuilder.error(.internalError(String(describing: error)))
        }
        metrics.observe(record.label, code: response.status.code, duration: ContinuousClock.now - record.start)
        // Probes are not audited: they would drown the log.
        if let audit, !Authenticator.isPublic(record.parsed.path) {
            audit.record(.of(request, parsed: record.parsed, context: context, caller: record.caller, user: record.user,
                             code: response.status.code, received: record.received))
        }
        return response
    }
}

extension APIRequestContext {
    /// The record `ObservationMiddleware` made; an error inside the front if it is missing.
    func requireRecord() throws(APIError) -> RequestRecord {
        guard let record else { throw APIError.internalError("the request was not parsed by the front") }
        return record
    }
}
