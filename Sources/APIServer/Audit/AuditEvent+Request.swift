import Foundation
import KubeModel
import Hummingbird
import NIOCore

extension AuditEvent {
    /// The event for a request answered with `code`. `caller` is who authenticated (nil: no
    /// valid credentials), `user` whom the request ran as after impersonation.
    static func of(_ request: Request, parsed: ParsedRequest, context: APIRequestContext, caller: UserInfo?, user: UserInfo?,
                   code: Int, received: Date) -> AuditEvent {
        let path = parsed.path
        let info = parsed.info
        let watch = parsed.isWatch
        let method = request.method.rawValue
        let subject = caller ?? UserInfo(name: "system:anonymous", groups: ["system:unauthenticated"])
        let verb = info.map { RequestAttributes.resource(user: subject, method: method, info: $0, watch: watch).verb }
            ?? (request.method == .head ? "get" : method.lowercased())
        let impersonated = user.flatMap { $0 == subject ? nil : $0 }
        return AuditEvent(stage: watch && code == 200 ? "ResponseStarted" : "ResponseComplete", verb: verb,
                          requestURI: request.head.path ?? path, user: subject, impersonatedUser: impersonated,
                          sourceIPs: context.channel.remoteAddress?.ipAddress.map { [$0] } ?? [],
                          userAgent: request.headers[.userAgent], objectRef: info.map(ObjectRef.init), code: code,
                          requestReceived: received, stageTime: Date())
    }
}

extension Response {
    /// This response with `slot` kept until its body has been written (a watch's lifetime).
    func holding(_ slot: WatchSlot) -> Response {
        var response = self
        let body = self.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            defer { withExtendedLifetime(slot) {} }
            try await body.write(writer)
        }
        return response
    }
}
