import Foundation
import HTTPTypes
import Hummingbird
import KubeModel
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import WSClient

/// `kubectl exec` (and `kubectl attach`, `pods/attach` to the kubelet's `/attach`) through
/// the API server: a WebSocket upgrade of
/// `GET /api/v1/namespaces/{ns}/pods/{name}/exec?command=…` (`v5.channel.k8s.io`, or
/// `v4.channel.k8s.io` from the Python client), relayed frame by frame to the kubelet's
/// `/exec/{ns}/{pod}/{container}` over a second WebSocket with the same subprotocol.
///
/// Upgrades are decided before the responder sees the request, so this authenticates and
/// authorizes on its own with the server's Authenticator and Authorizer: `create` on
/// `pods/exec`, as Kubernetes asks of WebSocket exec. Anything refused is not upgraded
/// (an empty 400); kubectl then falls back to a POST, which the responder answers with the
/// proper Status (401, 403, 404, …). Failures after the upgrade (no node, kubelet
/// unreachable, no such container) arrive as a Status on channel 3, as from a kubelet.
/// Upgraded requests are not in the audit log.
public struct PodExecProxy: Sendable {
    let registry: Registry
    let authenticator: Authenticator
    let authorizer: any Authorizer
    let kubelets: KubeletClientConfig
    let logger: Logger

    static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    static let maxFrameSize = 1 << 20
    static let errorChannel: UInt8 = 3

    public init(registry: Registry, authenticator: Authenticator, authorizer: any Authorizer, kubelets: KubeletClientConfig, logger: Logger) {
        self.registry = registry
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.kubelets = kubelets
        self.logger = logger
    }

    public typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// `pods/{name}/exec` without a WebSocket upgrade (the upgrade is taken before the
    /// responder): SPDY, kubectl's fallback, or a plain request. The pod's own errors first.
    static let handler = SubresourceHandler(.exec, methods: [.get: "GET", .post: "CREATE"]) { endpoint, name in
        _ = try await KubeletTarget.resolve(registry: endpoint.registry, namespace: endpoint.info.namespace ?? "", pod: name,
                                            container: endpoint.query["container"])
        throw APIError.badRequest("Upgrade request required: exec needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); SPDY is not supported")
    }

    /// For `HTTPServerBuilder.http1WebSocketUpgrade(shouldUpgrade:)`.
    public func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<Handler> {
        guard let up = await PodStreamUpgrade.authorize(head, channel: channel, subresources: ["exec", "attach"], protocols: Self.protocols,
                                                        authenticator: authenticator, authorizer: authorizer) else { return .dontUpgrade }
        let request = ExecRequest(namespace: up.namespace, pod: up.pod, query: QueryParameters(up.rawQuery), rawQuery: up.rawQuery,
                                  proto: up.proto, subresource: up.subresource)
        return .upgrade([.secWebSocketProtocol: up.proto]) { inbound, outbound, _ in
            await self.relay(request, inbound: inbound, outbound: outbound)
        }
    }

    struct ExecRequest: Sendable {
        var namespace: String
        var pod: String
        var query: QueryParameters
        var rawQuery: String?
        var proto: String
        /// `exec`, or `attach` (the same streams to the container's console).
        var subresource: String
    }

    /// Everything from the client to the kubelet and back until either side closes.
    func relay(_ r: ExecRequest, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let url: String
        let kubelet: KubeletTarget
        do {
            let resolved = try await KubeletTarget.resolve(registry: registry, namespace: r.namespace, pod: r.pod, container: r.query["container"])
            kubelet = resolved.kubelet
            url = "wss://\(kubelet.authority)/\(r.subresource)/\(KubeletTarget.escape(r.namespace))/\(KubeletTarget.escape(r.pod))/\(KubeletTarget.escape(resolved.container))"
                + "?" + KubeletTarget.forward(r.rawQuery, keys: ["command", "stdin", "stdout", "stderr", "tty", "input"])
        } catch let e as APIError {
            return await fail(outbound, e)
        } catch {
            return await fail(outbound, .internalError(String(describing: error)))
        }
        let connected = Locked(false)
        do {
            // TLS forbids an IP address as SNI; the name is not checked (see KubeletClientConfig).
            let sni = IPAddressBytes.parse(kubelet.host) == nil ? nil : (IPAddressBytes.parse(kubelet.node) == nil ? kubelet.node : "kubelet")
            let configuration = WebSocketClientConfiguration(maxFrameSize: Self.maxFrameSize, additionalHeaders: [.secWebSocketProtocol: r.proto],
                                                             sniHostname: sni)
            try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: kubelets.tls, logger: logger) { kin, kout, _ in
                connected.value = true
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // client → kubelet; the client closing or vanishing ends the kubelet's side too
                        // (which stops the command)
                        do {
                            for try await message in inbound.messages(maxSize: Self.maxFrameSize) { try await Self.write(message, to: kout) }
                        } catch {}
                        try? await kout.close(.normalClosure, reason: nil)
                    }
                    // kubelet → client, until the exit Status on the error channel: it is the last
                    // frame an exec sends, and the kubelet's close after it cannot be relied on to end
                    // this stream (a connection it dropped can sit half-closed here).
                    for try await message in kin.messages(maxSize: Self.maxFrameSize) {
                        try await Self.write(message, to: outbound)
                        if Self.isExitStatus(message) { break }
                    }
                    // Close the client's side first: a task parked reading the client does not end on
                    // cancellation alone, and kubectl would wait for a close that never came.
                    try? await outbound.close(.normalClosure, reason: nil)
                    group.cancelAll()
                }
            }
            try? await outbound.close(.normalClosure, reason: nil)
        } catch {
            if connected.value {
                try? await outbound.close(.goingAway, reason: nil)
            } else {
                await fail(outbound, KubeletTarget.unreachable(kubelet, error))
            }
        }
    }

    /// A binary frame on the error channel: the exec's final Status.
    static func isExitStatus(_ message: WebSocketMessage) -> Bool {
        guard case .binary(let b) = message else { return false }
        return b.getInteger(at: b.readerIndex, as: UInt8.self) == errorChannel
    }

    static func write(_ message: WebSocketMessage, to writer: WebSocketOutboundWriter) async throws {
        switch message {
        case .binary(let b): try await writer.write(.binary(b))
        case .text(let s): try await writer.write(.text(s))
        }
    }

    /// A Status on the error channel, then close: what a client shows as the exec's error.
    func fail(_ outbound: WebSocketOutboundWriter, _ error: APIError) async {
        var frame = ByteBuffer()
        frame.writeInteger(Self.errorChannel)
        frame.writeBytes(JSONWriter.bytes(error.status))
        try? await outbound.write(.binary(frame))
        try? await outbound.close(.normalClosure, reason: nil)
    }
}
