import Hummingbird

/// The in-flight caps (a wait in line, then 429): a watch against its user's watch cap, held until the
/// stream ends; anything else against its pool while the inner steps run. Public paths are
/// not counted.
struct InflightLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let limiter: InflightLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let record = try context.requireRecord()
        guard let user = record.user else { return try await next(request, context) }
        if record.parsed.isWatch {
            guard limiter.acquireWatch(user: user.name) else { throw InflightLimiter.tooManyRequests() }
            let slot = WatchSlot(limiter: limiter, user: user.name)
            return try await next(request, context).holding(slot)
        }
        let kind = InflightLimiter.Kind(method: request.method.rawValue)
        guard await limiter.acquireWaiting(kind) else { throw InflightLimiter.tooManyRequests() }
        defer { limiter.release(kind) }
        return try await next(request, context)
    }
}
