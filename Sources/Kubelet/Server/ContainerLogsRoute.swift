import Foundation
import Hummingbird
import KubeModel
import NIOCore

/// `GET /containerLogs/{ns}/{pod}/{container}`: the container's log as plain text, streamed
/// (chunk by chunk, as the reader produces it) so `kubectl logs -f` sees lines as they come.
struct ContainerLogsRoute: Sendable {
    let lookup: any PodLookup
    let runtime: any ContainerRuntime

    func respond(_ request: Request, namespace: String, pod: String, container: String) async throws -> Response {
        let query = QueryParameters(request.uri.query)
        let options: LogOptions
        let previous: Bool
        do {
            options = try Self.options(query)
            previous = try Self.flag(query, "previous")
        } catch let e as KubeletHTTPError {
            return KubeletStatus.response(code: e.code, message: e.message)
        }
        let location: LogLocation
        do {
            location = try await lookup.logLocation(namespace: namespace, pod: pod, container: container, previous: previous)
        } catch let e as PodLookupError {
            return KubeletStatus.response(code: e.code, message: e.message)
        }
        let runtime = self.runtime
        let id = location.containerID
        let running = location.running
        let reader = ContainerLogReader(path: location.path, options: options) {
            guard running else { return false }
            if case .running = await runtime.containerStatus(id) { return true }
            return false
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"],
                        body: ResponseBody(asyncSequence: ByteBufferChunks(base: reader)))
    }

    static func options(_ q: QueryParameters) throws -> LogOptions {
        if let malformed = q.malformed { throw KubeletHTTPError(code: 400, message: malformed) }
        var o = LogOptions()
        o.follow = try flag(q, "follow")
        o.timestamps = try flag(q, "timestamps")
        o.tailLines = try int(q, "tailLines")
        if let limit = try int(q, "limitBytes") {
            guard limit > 0 else { throw KubeletHTTPError(code: 400, message: "limitBytes must be greater than zero") }
            o.limitBytes = limit
        }
        if let s = try int(q, "sinceSeconds") {
            guard s > 0 else { throw KubeletHTTPError(code: 400, message: "sinceSeconds must be greater than zero") }
            o.since = Date().addingTimeInterval(-Double(s))
        } else if let t = q["sinceTime"], !t.isEmpty {
            guard let d = RFC3339.parse(Substring(t)) else {
                throw KubeletHTTPError(code: 400, message: "invalid sinceTime \"\(t)\": want RFC3339")
            }
            o.since = d
        }
        if let tail = o.tailLines, tail < 0 { o.tailLines = nil }  // -1 means all, as kubectl sends it
        return o
    }

    /// KubeModel's Go-style reads, a bad value answered 400 as the kubelet does.
    static func flag(_ q: QueryParameters, _ key: String) throws -> Bool {
        do { return try q.bool(key) } catch { throw KubeletHTTPError(code: 400, message: error.message) }
    }

    static func int(_ q: QueryParameters, _ key: String) throws -> Int? {
        do { return try q.int(key).map { Int($0) } } catch { throw KubeletHTTPError(code: 400, message: error.message) }
    }
}

/// The log reader's chunks as `ByteBuffer`s for a streamed response body.
struct ByteBufferChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: ContainerLogReader

    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator()) }

    struct Iterator: AsyncIteratorProtocol {
        var base: ContainerLogReader.Iterator
        mutating func next() async -> ByteBuffer? { await base.next().map { ByteBuffer(bytes: $0) } }
    }
}
