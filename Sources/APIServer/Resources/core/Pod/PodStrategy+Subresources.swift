import Hummingbird
import KubeModel

/// The subresources a Pod serves. `exec`, `attach` and `portforward` are streams: their
/// WebSocket upgrades are taken before the responder (`PodExecProxy`, `PodPortForwardProxy`),
/// so a request reaching these handlers is a plain one or SPDY, answered 400 after the pod's
/// own errors.
extension PodStrategy {
    public var subresourceHandlers: [SubresourceHandler] {
        [.status, PodLogProxy.handler, PodBinding.handler, PodExecProxy.handler, PodEviction.handler, Self.attach, Self.portForward]
    }

    static let attach = SubresourceHandler(.attach, methods: [.get: "GET", .post: "CREATE"]) { endpoint, name in
        _ = try await KubeletTarget.resolve(registry: endpoint.registry, namespace: endpoint.info.namespace ?? "", pod: name,
                                            container: endpoint.query["container"])
        throw APIError.badRequest("Upgrade request required: attach needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io); SPDY is not supported")
    }

    static let portForward = SubresourceHandler(.portforward, methods: [.get: "GET", .post: "CREATE"]) { endpoint, name in
        _ = try await PodPortForwardProxy.kubelet(endpoint.registry, namespace: endpoint.info.namespace ?? "", pod: name)
        throw APIError.badRequest("Upgrade request required: port-forward needs a WebSocket upgrade (SPDY/3.1+portforward.k8s.io or v4.channel.k8s.io); plain SPDY is not supported")
    }
}
