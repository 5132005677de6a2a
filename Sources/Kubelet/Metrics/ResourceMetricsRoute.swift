import Foundation
import Hummingbird
import NIOCore

/// `GET /metrics/resource` on the kubelet's server: `ResourceMetricsText` of a fresh
/// measurement.
struct ResourceMetricsRoute: Sendable {
    let collector: ResourceMetricsCollector

    func respond() async -> Response {
        let text = ResourceMetricsText.render(await collector.collect())
        var headers = HTTPFields()
        headers[.contentType] = ResourceMetricsText.contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
