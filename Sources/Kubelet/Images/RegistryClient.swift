import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The OCI distribution API's read side for one repository: manifests by tag or digest and
/// blobs by digest, over the endpoints `RegistryHosts` gives (HTTPS unless the registry is
/// listed as insecure). A 401 is answered once per request with the challenge's scheme:
/// a bearer token from the realm (with the credentials, when there are some) or basic auth.
public final class RegistryClient: Sendable {
    let http: HTTPClient
    /// Only for endpoints configured with `insecure_skip_verify`.
    let unverified: HTTPClient
    let hosts: RegistryHosts

    public init(hosts: RegistryHosts) {
        self.hosts = hosts
        func client(verify: Bool) -> HTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            if !verify { tls.certificateVerification = .none }
            // Registries often redirect blob requests to their storage.
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls,
                                                         redirectConfiguration: .follow(max: 5, allowCycles: false),
                                                         timeout: .init(connect: .seconds(15)))
            configuration.tracing.tracer = nil  // no spans to record (see KubeRESTClient)
            return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }
        http = client(verify: true)
        unverified = client(verify: false)
    }

    public func shutdown() async {
        try? await http.shutdown()
        try? await unverified.shutdown()
    }

    /// A resolved manifest or index: its bytes, media type and digest (checked when asked by digest).
    public struct FetchedManifest: Sendable {
        public var data: Data
        public var mediaType: String?
        public var digest: String
    }

    public func manifest(_ ref: ImageReference, reference: String, credential: RegistryCredential?) async throws -> FetchedManifest {
        let response = try await get(ref, path: "manifests/\(reference)", accept: MediaType.acceptedManifests, credential: credential)
        var body = try await response.body.collect(upTo: 8 * 1024 * 1024)
        let data = Data(body.readBytes(length: body.readableBytes) ?? [])
        guard response.status == .ok else {
            throw Self.failure(response.status, data, what: "\(ref.name):\(reference)")
        }
        let digest = ContentStore.digest(of: data)
        if reference.hasPrefix("sha256:") && digest != reference {
            throw ImageError.invalidContent("manifest \(reference) of \(ref.name) has digest \(digest)")
        }
        let type = response.headers.first(name: "Content-Type")?.split(separator: ";").first.map(String.init)
        return FetchedManifest(data: data, mediaType: type, digest: digest)
    }

    /// Streams a blob into the store, checking its digest and size on the way.
    public func fetchBlob(_ ref: ImageReference, _ descriptor: Descriptor, credential: RegistryCredential?, into store: ContentStore) async throws {
        if store.hasBlob(descriptor.digest) { return }
        let response = try await get(ref, path: "blobs/\(descriptor.digest)", accept: ["*/*"], credential: credential)
        guard response.status == .ok else {
            var body = try await response.body.collect(upTo: 1024 * 1024)
            throw Self.failure(response.status, Data(body.readBytes(length: body.readableBytes) ?? []), what: descriptor.digest)
        }
        let temp = try store.makeTemporaryFile()
        do {
            var writer = try DigestingWriter(path: temp)
            for try await chunk in response.body {
                try writer.write(chunk.readableBytesView)
                if writer.count > descriptor.size {
                    throw ImageError.invalidContent("blob \(descriptor.digest) is larger than its declared \(descriptor.size) bytes")
                }
            }
            let digest = try writer.finish()
            guard digest == descriptor.digest, writer.count == descriptor.size else {
                throw ImageError.invalidContent("blob digest mismatch: expected \(descriptor.digest) (\(descriptor.size) bytes), got \(digest) (\(writer.count) bytes)")
            }
            try store.commit(temp, as: descriptor.digest)
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            throw error
        }
    }

    /// GET with the registry's auth dance, trying each endpoint in turn on connection errors.
    private func get(_ ref: ImageReference, path: String, accept: [String], credential: RegistryCredential?) async throws -> HTTPClientResponse {
        let credential = credential ?? hosts.credential(for: ref.registry)
        var lastError: Error = ImageError.transport("no endpoint for \(ref.registry)")
        for endpoint in hosts.endpoints(for: ref.registry) {
            let url = "\(endpoint.baseURL)/v2/\(ref.repository)/\(path)"
            do {
                let client = endpoint.skipTLSVerify ? unverified : http
                var response = try await send(client, url, accept: accept, authorization: nil)
                if response.status == .unauthorized, let header = response.headers.first(name: "WWW-Authenticate"),
                   let challenge = AuthChallenge(header: header) {
                    _ = try? await response.body.collect(upTo: 1024 * 1024)
                    let authorization = try await authorize(challenge, ref: ref, credential: credential, client: client)
                    response = try await send(client, url, accept: accept, authorization: authorization)
                }
                return response
            } catch let error as ImageError {
                throw error
            } catch {
                lastError = ImageError.transport("pulling from \(endpoint.baseURL): \(error)")
            }
        }
        throw lastError
    }

    private func send(_ client: HTTPClient, _ url: String, accept: [String], authorization: String?) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: accept.joined(separator: ", "))
        request.headers.add(name: "User-Agent", value: "caravel-kubelet")
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return try await client.execute(request, timeout: .minutes(10))
    }

    private func authorize(_ challenge: AuthChallenge, ref: ImageReference, credential: RegistryCredential?,
                           client: HTTPClient) async throws -> String {
        if challenge.scheme == "basic" {
            guard let credential else { throw ImageError.unauthorized("\(ref.name): authorization required (no credentials)") }
            return credential.basicHeader
        }
        guard let tokenURL = challenge.tokenURL(scope: "repository:\(ref.repository):pull") else {
            throw ImageError.unauthorized("\(ref.name): unsupported authentication challenge \(challenge.scheme)")
        }
        var request = HTTPClientRequest(url: tokenURL)
        if let credential { request.headers.add(name: "Authorization", value: credential.basicHeader) }
        let response = try await client.execute(request, timeout: .seconds(60))
        var body = try await response.body.collect(upTo: 1024 * 1024)
        let data = Data(body.readBytes(length: body.readableBytes) ?? [])
        guard response.status == .ok, let token = AuthChallenge.token(fromResponse: data) else {
            throw ImageError.unauthorized("\(ref.name): fetching an anonymous token failed: \(response.status.code) \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return "Bearer " + token
    }

    /// The registry's own words (`errors[].code: message`) with the status.
    static func failure(_ status: HTTPResponseStatus, _ body: Data, what: String) -> ImageError {
        var message = "\(status.code) \(status.reasonPhrase)"
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let errors = object["errors"] as? [[String: Any]], !errors.isEmpty {
            message = errors.map { "\($0["code"] as? String ?? "ERROR"): \($0["message"] as? String ?? "")" }.joined(separator: "; ")
        }
        switch status {
        case .notFound: return .notFound("\(what): not found (\(message))")
        case .unauthorized, .forbidden: return .unauthorized("\(what): \(status.code) \(status.reasonPhrase) (\(message))")
        default: return .transport("\(what): \(message)")
        }
    }
}
