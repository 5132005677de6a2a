import AsyncHTTPClient
import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`: finds the pod's node and streams the
/// kubelet's `/containerLogs` answer through unchanged, chunk by chunk, so `kubectl logs -f`
/// sees lines as they are written. Authorization (`get` on `pods/log`) already happened in
/// the responder.
struct PodLogProxy {
    static let handler = SubresourceHandler(.log, methods: [.get: "GET"]) { endpoint, name in
        try await PodLogProxy(registry: endpoint.registry, namespace: endpoint.info.namespace ?? "", name: name, query: endpoint.query,
                              rawQuery: endpoint.request.uri.query).serve()
    }

    let registry: Registry
    let namespace: String
    let name: String
    let query: QueryParameters
    let rawQuery: String?

    /// The query parameters passed on to the kubelet.
    static let forwarded: Set<String> = ["follow", "previous", "tailLines", "sinceSeconds", "sinceTime", "timestamps", "limitBytes"]

    func serve() async throws -> Response {
        try validate()
        let (_, kubelet, container) = try await KubeletTarget.resolve(registry: registry, namespace: namespace, pod: name,
                                                                      container: query["container"])
        guard let config = registry.environment.kubelets else {
            throw APIError.internalError("this API server has no kubelet client configuration")
        }
        var url = "https://\(kubelet.authority)/containerLogs/\(KubeletTarget.escape(namespace))/\(KubeletTarget.escape(name))/\(KubeletTarget.escape(container))"
        let q = KubeletTarget.forward(rawQuery, keys: Self.forwarded)
        if !q.isEmpty { url += "?" + q }
        var request = HTTPClientRequest(url: url)
        request.tlsConfiguration = config.tls
        let response: HTTPClientResponse
        do {
            // No deadline: a followed log streams for as long as the container runs and the
            // client listens; dropping the body (client gone) cancels the request.
            response = try await KubeletClientConfig.httpClient.execute(request, deadline: .distantFuture)
        } catch {
            throw KubeletTarget.unreachable(kubelet, error)
        }
        guard response.status == .ok else {
            // The kubelet's own Status (404 no such container, 400 not started, ...) as it is.
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            if let status = try? JSONParser.parse(body.readableBytesView), status["kind"]?.stringValue == "Status" {
                return ResponseBuilder.json(status, code: Int(response.status.code))
            }
            throw APIError(code: Int(response.status.code), reason: "InternalError",
                           message: "the kubelet of node \(kubelet.node) answered \(response.status.code): \(String(buffer: body))")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain"
        headers[.cacheControl] = "no-cache, private"
        return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: response.body))
    }

    /// The checks kube-apiserver makes before asking the kubelet.
    func validate() throws {
        if let t = try query.int("tailLines"), t < 0 { throw APIError.badRequest("tailLines: Invalid value: \(t): must be greater than or equal to 0") }
        if let l = try query.int("limitBytes"), l < 1 { throw APIError.badRequest("limitBytes: Invalid value: \(l): must be greater than 0") }
        if let s = try query.int("sinceSeconds"), s < 1 { throw APIError.badRequest("sinceSeconds: Invalid value: \(s): must be greater than 0") }
        if query["sinceSeconds"] != nil && query["sinceTime"] != nil {
            throw APIError.badRequest("sinceSeconds and sinceTime: at most one of them may be given")
        }
        _ = try query.bool("follow")
        _ = try query.bool("previous")
        _ = try query.bool("timestamps")
    }
}
