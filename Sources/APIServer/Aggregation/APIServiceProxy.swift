import AsyncHTTPClient
import Foundation
import Hummingbird
import HTTPTypes
import KubeModel
import NIOCore

/// Forwards a request under `/apis/GROUP/VERSION` to the API server of its APIService, as
/// kube-aggregator's proxy: the caller was authenticated and authorized here, and the backend
/// learns who it is from the front-proxy headers (`X-Remote-User`, `X-Remote-Group`,
/// `X-Remote-Extra-*`), never from the client's own credentials. The answer, a watch
/// included, streams back as it arrives.
struct APIServiceProxy {
    let registry: Registry
    let apis: AggregatedAPIs

    /// Request headers not passed on: credentials, impersonation, hop-by-hop headers and any
    /// front-proxy header a client tries to set itself.
    static func forwarded(_ name: String) -> Bool {
        let n = name.lowercased()
        if n.hasPrefix("impersonate-") || n.hasPrefix("x-remote-") { return false }
        return !["authorization", "host", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
                 "content-length", "te", "trailer"].contains(n)
    }

    /// Response headers not passed back: the body is re-framed (chunked) here.
    static func returned(_ name: String) -> Bool {
        !["connection", "keep-alive", "transfer-encoding", "content-length", "trailer"].contains(name.lowercased())
    }

    func forward(_ request: Request, remote: AggregatedAPIs.Remote, user: UserInfo?, isWatch: Bool) async throws -> Response {
        let (client, base): (HTTPClient, String)
        do {
            (client, base) = try await remote.backend.client(registry: registry, identity: apis.clientIdentity, connectTimeout: .seconds(5))
        } catch {
            throw Self.unavailable(error.message)
        }
        var body = ByteBuffer()
        var incoming = request
        do { body = try await incoming.collectBody(upTo: APIResponder.maxBodyBytes) } catch {
            try? await client.shutdown()
            throw APIError.tooLarge()
        }
        let target = base + request.uri.description
        var outgoing = HTTPClientRequest(url: target)
        outgoing.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where Self.forwarded(field.name.rawName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if let user {
            outgoing.headers.add(name: "X-Remote-User", value: user.name)
            for group in user.groups { outgoing.headers.add(name: "X-Remote-Group", value: group) }
            if !user.uid.isEmpty { outgoing.headers.add(name: "X-Remote-Uid", value: user.uid) }
        }
        if body.readableBytes > 0 { outgoing.body = .bytes(body) }
        // A watch lasts as long as the client keeps it (or its timeout); other requests get a bound.
        let deadline: NIODeadline = .now() + (isWatch ? .hours(2) : .seconds(60))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, deadline: deadline)
        } catch {
            try? await client.shutdown()
            throw Self.unavailable("error trying to reach service: \(error)")
        }
        var headers = HTTPFields()
        for (name, value) in response.headers where Self.returned(name) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let channel = ConnectionHangUp.channel
        let stream = ResponseBody { writer in
            // The client hanging up on an idle watch ends the backend's request too.
            try? await ConnectionHangUp.watching(channel, onHangUp: { Task { try? await client.shutdown() } }) {
                for try await chunk in response.body { try await writer.write(chunk) }
            }
            try? await client.shutdown()
            try await writer.finish(nil)
        }
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: stream)
    }

    /// kube-aggregator answers 503 when the backend cannot be reached.
    static func unavailable(_ why: String) -> APIError {
        APIError(code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request: \(why)")
    }
}
