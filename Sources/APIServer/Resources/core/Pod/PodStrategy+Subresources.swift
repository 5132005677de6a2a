import Hummingbird
import KubeModel

/// The subresources a Pod serves; `portforward` is advertised and answers 405.
extension PodStrategy {
    public var subresourceHandlers: [SubresourceHandler] {
        [.status, PodLogProxy.handler, PodBinding.handler, PodExecProxy.handler, PodEviction.handler, Self.attach]
    }

    /// `pods/{name}/attach`: refused; exec is the supported way into a container.
    static let attach = SubresourceHandler(.attach, methods: [.get: "GET", .post: "CREATE"]) { _, _ in
        throw APIError.badRequest("attach is not supported by this server; use exec")
    }
}
