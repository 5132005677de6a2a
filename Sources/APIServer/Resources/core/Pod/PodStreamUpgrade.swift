import HTTPTypes
import Hummingbird
import NIOCore

/// A WebSocket upgrade of a pod stream subresource (`exec`, `attach`, `portforward`), checked
/// before the responder sees it: the path names one of `subresources` of a pod, the client
/// offers one of `protocols`, and the caller (after impersonation) may `create` that
/// subresource of that pod. nil for anything else: the request is then not upgraded and the
/// responder answers it as a plain request.
struct PodStreamUpgrade: Sendable {
    var namespace: String
    var pod: String
    var subresource: String
    /// The subprotocol chosen: the first of `protocols` the client offers.
    var proto: String
    var rawQuery: String?

    static func authorize(_ head: HTTPRequest, channel: any Channel, subresources: Set<String>, protocols: [String],
                          authenticator: Authenticator, authorizer: any Authorizer) async -> PodStreamUpgrade? {
        let path = head.path.map { String($0.prefix { $0 != "?" }) } ?? ""
        let rawQuery = head.path.flatMap { p in p.firstIndex(of: "?").map { String(p[p.index(after: $0)...]) } }
        guard let info = RequestInfo.parse(path: path), info.group == "", info.resource == "pods",
              let subresource = info.subresource, subresources.contains(subresource),
              let namespace = info.namespace, let name = info.name else { return nil }
        let offered = head.headerFields[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let proto = protocols.first(where: offered.contains) else { return nil }
        guard let caller = await authenticator.authenticate(authorization: head.headerFields[.authorization],
                                                            certificateSubject: { await ConnectionCertificates.shared.subject(of: channel) }),
              let user = try? await Impersonation.resolve(Request(head: head, body: .init(buffer: ByteBuffer())), caller: caller,
                                                          authorizer: authorizer) else { return nil }
        let attributes = RequestAttributes(user: user, verb: "create", apiGroup: "", resource: "pods", subresource: subresource,
                                           namespace: namespace, name: name)
        guard await authorizer.authorize(attributes).allowed else { return nil }
        return PodStreamUpgrade(namespace: namespace, pod: name, subresource: subresource, proto: proto, rawQuery: rawQuery)
    }
}
