import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import KubeModel
import Logging
import NIOCore

/// `GET /portForward/{ns}/{pod}` upgraded to a WebSocket: `SPDY/3.1+portforward.k8s.io`
/// (kubectl) or `v4.channel.k8s.io` with `?ports=…` (the Python client), relayed to ports on
/// the pod's loopback inside its network namespace.
struct PortForwardWebSocket: Sendable {
    let lookup: any PodLookup
    let runtime: any ContainerRuntime
    let logger: Logger

    static let protocols = [SPDYPortForwardSession.subprotocol, ChannelPortForwardSession.subprotocol]

    static func negotiate(_ headers: HTTPFields) -> String? {
        let offered = headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        return protocols.first { offered.contains($0) }
    }

    func shouldUpgrade(_ request: Request) -> RouterShouldUpgrade {
        guard let proto = Self.negotiate(request.headers) else { return .dontUpgrade }
        return .upgrade([.secWebSocketProtocol: proto])
    }

    func handle(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter,
                _ context: WebSocketRouterContext<KubeletRequestContext>) async {
        let params = context.requestContext.parameters
        let proto = Self.negotiate(context.request.headers) ?? ChannelPortForwardSession.subprotocol
        let podUID: String
        do {
            podUID = try await lookup.portForwardTarget(namespace: params.get("ns") ?? "", pod: params.get("pod") ?? "")
        } catch {
            await refuse(outbound, proto: proto, message: (error as? PodLookupError)?.message ?? "\(error)")
            return
        }
        if proto == SPDYPortForwardSession.subprotocol {
            await SPDYPortForwardSession(podUID: podUID, runtime: runtime, outbound: outbound, logger: logger).run(inbound)
            return
        }
        let query = QueryParameters(context.request.uri.query)
        let ports = query.all("ports").flatMap { $0.split(separator: ",") }.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ports.isEmpty, ports.allSatisfy({ $0.map { (1...65535).contains($0) } ?? false }) else {
            await refuse(outbound, proto: proto, message: "query parameter \"ports\" must name ports between 1 and 65535")
            return
        }
        await ChannelPortForwardSession(podUID: podUID, ports: ports.compactMap { $0 }, runtime: runtime, outbound: outbound,
                                        logger: logger).run(inbound)
    }

    /// No pod to forward to: a close with the reason (for the channel protocol, the message on
    /// the first error channel before it).
    private func refuse(_ outbound: WebSocketOutboundWriter, proto: String, message: String) async {
        if proto == ChannelPortForwardSession.subprotocol {
            var frame = ByteBuffer()
            frame.writeInteger(UInt8(1))
            frame.writeString(message)
            try? await outbound.write(.binary(frame))
        }
        try? await outbound.close(.unexpectedServerError, reason: String(message.prefix(120)))
    }
}
