import Foundation
import KubeModel

/// One request as the front's middlewares see it: parsed once on arrival, then filled in as it
/// goes (who called, whom it runs as, the metrics label) so the outer steps (audit, metrics)
/// can report what the inner ones learnt. A reference, carried in `APIRequestContext.record`.
final class RequestRecord: Sendable {
    let parsed: ParsedRequest
    let received = Date()
    let start = ContinuousClock.now
    private let state: Locked<(caller: UserInfo?, user: UserInfo?, label: RequestLabel)>

    init(_ parsed: ParsedRequest, method: String) {
        self.parsed = parsed
        state = Locked((nil, nil, RequestLabel(verb: method, resource: "", subresource: "")))
    }

    /// Who authenticated; nil for public paths and refused credentials.
    var caller: UserInfo? {
        get { state.value.caller }
        set { state.withLock { $0.caller = newValue } }
    }

    /// Whom the request runs as after impersonation; nil for public paths.
    var user: UserInfo? {
        get { state.value.user }
        set { state.withLock { $0.user = newValue } }
    }

    /// The verb, resource and subresource request metrics count it under.
    var label: RequestLabel {
        get { state.value.label }
        set { state.withLock { $0.label = newValue } }
    }
}
