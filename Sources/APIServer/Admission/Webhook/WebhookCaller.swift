import AsyncHTTPClient
import Foundation
import KubeModel
import NIOCore
import NIOSSL

/// Posts an AdmissionReview to a webhook over HTTPS and reads the answer. A webhook named by
/// Service is reached at one of the Service's ready endpoints (as kube-apiserver with endpoint
/// routing), while TLS still checks the certificate for `name.namespace.svc`.
enum WebhookCaller {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Answers bigger than this are refused (kube-apiserver's limit is of the same order).
    static let maxResponseBytes = 3 << 20

    static func call(_ hook: Webhook, review: JSONValue, registry: Registry) async throws(Failure) -> JSONValue {
        let target = try await resolve(hook, registry: registry)
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(Int64(hook.timeoutSeconds))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tracing.tracer = nil  // no spans to record (see KubeRESTClient)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let pem = hook.caBundle {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            } catch {
                throw Failure(description: "failed to call webhook: the caBundle holds no usable certificate: \(error)")
            }
        }
        configuration.tlsConfiguration = tls
        if let (host, ip) = target.override { configuration.dnsOverride = [host: ip] }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let result: Result<JSONValue, Failure> = await post(client, url: target.url, review: review, timeout: hook.timeoutSeconds)
        try? await client.shutdown()
        return try result.get()
    }

    private static func post(_ client: HTTPClient, url: String, review: JSONValue, timeout: Int) async -> Result<JSONValue, Failure> {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: JSONWriter.bytes(review)))
        let shown = url
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout)))
            let body = try await response.body.collect(upTo: maxResponseBytes)
            guard (200..<300).contains(Int(response.status.code)) else {
                let text = String(buffer: body).prefix(512)
                return .failure(Failure(description: "failed to call webhook: the server responded with the status code \(response.status.code)"
                                        + (text.isEmpty ? "" : ": \(text)")))
            }
            do {
                return .success(try JSONParser.parse(Array(buffer: body)))
            } catch {
                return .failure(Failure(description: "received invalid webhook response: \(error.message)"))
            }
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .failure(Failure(description: "failed to call webhook: Post \"\(shown)\": context deadline exceeded"))
        } catch {
            return .failure(Failure(description: "failed to call webhook: Post \"\(shown)\": \(error)"))
        }
    }

    struct Target {
        var url: String
        /// The Service's DNS name and the endpoint address it is dialled at.
        var override: (String, String)?
    }

    static func resolve(_ hook: Webhook, registry: Registry) async throws(Failure) -> Target {
        switch hook.endpoint {
        case .url:
            return Target(url: hook.url(authority: ""), override: nil)
        case .service(let namespace, let name, let port, _):
            let host = "\(name).\(namespace).svc"
            let address = try await endpoint(namespace: namespace, service: name, port: port, registry: registry)
            return Target(url: hook.url(authority: "\(host):\(address.port)"), override: (host, address.ip))
        }
    }

    /// A ready address of the Service and the target port behind its `port`.
    static func endpoint(namespace: String, service name: String, port: Int, registry: Registry) async throws(Failure) -> (ip: String, port: Int) {
        do {
            let found = try await ServiceEndpoint.resolve(namespace: namespace, service: name, port: port, registry: registry)
            return (found.ip, found.port)
        } catch {
            switch error {
            case .serviceNotFound, .noSuchPort:
                throw Failure(description: "failed to call webhook: \(error)")
            case .missingEndpoints:
                throw Failure(description: "failed to call webhook: service \(namespace)/\(name) has no ready endpoints")
            }
        }
    }
}
