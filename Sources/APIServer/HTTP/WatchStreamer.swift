import Foundation
import Hummingbird
import KubeModel
import NIOCore
import ServiceLifecycle

/// Streams a watch as chunked JSON lines, one event per line, flushed per event.
enum WatchStreamer {
    /// Default server-side watch lifetime when the client sets none, as kube-apiserver's
    /// randomised min-request-timeout (30 to 60 minutes).
    static func defaultTimeout() -> Int64 { Int64.random(in: 1800...3600) }

    static func stream(registry: Registry, strategy: any ResourceStrategy, version: String, namespace: String?,
                       options: ListOptions, shape: ResponseShape, query: QueryParameters) async throws -> Response {
        let (events, cancel) = try await registry.watch(strategy, version: version, namespace: namespace, options: options)
        let timeout = options.timeoutSeconds.map { max(0, $0) } ?? defaultTimeout()
        let includeObject = query["includeObject"] ?? "Metadata"
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-cache, private"
        headers[.transferEncoding] = "chunked"
        // Kept alive: the connection serves the next request once the watch ends.
        let channel = ConnectionHangUp.channel
        let body = ResponseBody { writer in
            // An idle watch writes nothing, so it would notice a client that hung up only at its
            // timeout, holding the user's watch slot until then: end it when the peer closes.
            try await ConnectionHangUp.watching(channel, onHangUp: cancel) {
                try await pump(&writer)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)

        @Sendable func pump(_ writer: inout any ResponseBodyWriter) async throws {
            // A server shutting down ends its watches, so it does not wait for their timeouts.
            try await withGracefulShutdownHandler {
              try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: .seconds(timeout))
                    cancel()
                }
                defer { cancel() }
                for await event in events {
                    var object = event.object
                    if shape == .table && event.type != "ERROR" && event.type != "BOOKMARK" {
                        object = TableConverter.table([object], strategy: strategy, includeObject: includeObject, listMeta: [:])
                    } else if shape == .partialMetadata && event.type != "ERROR" {
                        object = TableConverter.partialMetadata(object)
                    }
                    var line: [UInt8]
                    if shape == .object, let shared = event.encodings {
                        line = shared.line(event.encodingKey) {
                            if event.isStoredForm, let stored = shared.storedObject {
                                return JSONWriter.watchEvent(type: event.type, serializedObject: stored)
                            }
                            return JSONWriter.kubernetesWatchEvent(type: event.type, object: object)
                        }
                    } else {
                        line = JSONWriter.kubernetesWatchEvent(type: event.type, object: object)
                    }
                    line.append(UInt8(ascii: "\n"))
                    try await writer.write(ByteBuffer(bytes: line))
                }
                group.cancelAll()
              }
            } onGracefulShutdown: {
                cancel()
            }
        }
    }
}
