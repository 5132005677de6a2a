import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import KubeModel
import Logging
import NIOCore
import NIOSSL
import WSClient

/// `kubectl port-forward` through the API server: a WebSocket upgrade of
/// `GET /api/v1/namespaces/{ns}/pods/{name}/portforward` with subprotocol
/// `SPDY/3.1+portforward.k8s.io` (kubectl: SPDY/3.1 frames tunnelled in binary messages) or
/// `v4.channel.k8s.io` with `?ports=…` (the Python client), relayed message by message to the
/// kubelet's `/portForward/{ns}/{pod}` over a second WebSocket with the same subprotocol. The
/// kubelet speaks the stream protocols; this side only authorizes and relays.
///
/// As for exec, the upgrade is decided before the responder: authentication, impersonation
/// and `create` on `pods/portforward` here; anything refused is not upgraded, and the plain
/// request then gets its Status from the responder (a plain SPDY upgrade, kubectl's fallback,
/// is answered 400).
public struct PodPortForwardProxy: Sendable {
    let registry: Registry
    let authenticator: Authenticator
    let authorizer: any Authorizer
    let kubelets: KubeletClientConfig
    let logger: Logger

    static let protocols = ["SPDY/3.1+portforward.k8s.io", "v4.channel.k8s.io"]
    /// SPDY data frames from the kubelet carry at most 32 KiB; 16 MiB allows the largest frame.
    static let maxMessageSize = 1 << 24

    public init(registry: Registry, authenticator: Authenticator, authorizer: any Authorizer, kubelets: KubeletClientConfig, logger: Logger) {
        self.registry = registry
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.kubelets = kubelets
        self.logger = logger
    }

    /// For `HTTPServerBuilder.http1WebSocketUpgrade(shouldUpgrade:)`; `.dontUpgrade` for every
    /// request that is not a port-forward.
    public func shouldUpgrade(_ head: HTTPRequest, channel: any Channel, logger: Logger) async -> ShouldUpgradeResult<PodExecProxy.Handler> {
        guard let up = await PodStreamUpgrade.authorize(head, channel: channel, subresources: ["portforward"], protocols: Self.protocols,
                                                        authenticator: authenticator, authorizer: authorizer) else { return .dontUpgrade }
        let namespace = up.namespace, name = up.pod, proto = up.proto
        // The pod and its kubelet before the upgrade: a missing pod is a plain 404 to the client.
        guard let kubelet = try? await Self.kubelet(registry, namespace: namespace, pod: name) else { return .dontUpgrade }
        let query = KubeletTarget.forward(up.rawQuery, keys: ["ports"])
        let url = "wss://\(kubelet.authority)/portForward/\(KubeletTarget.escape(namespace))/\(KubeletTarget.escape(name))"
            + (query.isEmpty ? "" : "?" + query)
        return .upgrade([.secWebSocketProtocol: proto]) { inbound, outbound, _ in
            await self.relay(url: url, kubelet: kubelet, proto: proto, inbound: inbound, outbound: outbound)
        }
    }

    /// The kubelet of the pod's node (the pod must be scheduled).
    static func kubelet(_ registry: Registry, namespace: String, pod: String) async throws -> KubeletTarget {
        guard let pods = registry.catalog.strategy(group: "", plural: "pods") else { throw APIError.internalError("pods are not served") }
        let object = try await registry.get(pods, version: "v1", namespace: namespace, name: pod)
        let first = object[path: ["spec", "containers"]]?.arrayValue?.first?["name"]?.stringValue
        return try await KubeletTarget.resolve(registry: registry, namespace: namespace, pod: pod, container: first).kubelet
    }

    /// Messages both ways until either side closes; then the other is closed too.
    func relay(url: String, kubelet: KubeletTarget, proto: String, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        do {
            // TLS forbids an IP address as SNI; the name is not checked (see KubeletClientConfig).
            let sni = IPAddressBytes.parse(kubelet.host) == nil ? nil : (IPAddressBytes.parse(kubelet.node) == nil ? kubelet.node : "kubelet")
            let configuration = WebSocketClientConfiguration(maxFrameSize: Self.maxMessageSize, additionalHeaders: [.secWebSocketProtocol: proto],
                                                             sniHostname: sni)
            try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: kubelets.tls, logger: logger) { kin, kout, _ in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do { for try await m in inbound.messages(maxSize: Self.maxMessageSize) { try await PodExecProxy.write(m, to: kout) } } catch {}
                        try? await kout.close(.normalClosure, reason: nil)
                    }
                    group.addTask {
                        do { for try await m in kin.messages(maxSize: Self.maxMessageSize) { try await PodExecProxy.write(m, to: outbound) } } catch {}
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                    // Either side ending ends the session: a task parked reading the other side
                    // only ends once that side is closed as well.
                    await group.next()
                    try? await outbound.close(.normalClosure, reason: nil)
                    try? await kout.close(.normalClosure, reason: nil)
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("port-forward relay ended", metadata: ["error": "\(error)"])
        }
        try? await outbound.close(.goingAway, reason: nil)
    }
}
