import AsyncHTTPClient
import Foundation
import KubeModel
import NIOCore
import NIOSSL

/// How to reach the API server behind an APIService: its Service (dialled at a ready
/// endpoint, as kube-aggregator does, while TLS checks the name `name.namespace.svc`) and
/// how to trust it (`caBundle`, or no check with `insecureSkipTLSVerify`).
struct APIServiceBackend: Sendable, Equatable {
    var namespace: String
    var name: String
    var port: Int
    /// PEM trust roots; nil trusts the system roots.
    var caBundle: String?
    var insecureSkipTLSVerify: Bool

    /// The backend of a stored APIService; nil for a Local one.
    init?(apiService object: JSONValue) {
        guard let service = object[path: ["spec", "service"]], !service.isNull,
              let namespace = service["namespace"]?.stringValue, let name = service["name"]?.stringValue else { return nil }
        self.namespace = namespace
        self.name = name
        port = Int(service["port"]?.intValue ?? 443)
        caBundle = object[path: ["spec", "caBundle"]]?.stringValue.flatMap { Data(base64Encoded: $0) }
            .flatMap { String(data: $0, encoding: .utf8) }
        insecureSkipTLSVerify = object[path: ["spec", "insecureSkipTLSVerify"]]?.boolValue == true
    }

    /// The DNS name the backend's serving certificate must hold.
    var host: String { "\(name).\(namespace).svc" }

    /// Why a backend could not be used: a reason as the Available condition shows it.
    struct Failure: Error, Sendable {
        var reason: String
        var message: String
    }

    /// A client dialling the Service's ready endpoint; the caller shuts it down.
    func client(registry: Registry, identity: FrontProxyIdentity?, connectTimeout: TimeAmount) async throws(Failure) -> (HTTPClient, baseURL: String) {
        let endpoint: ServiceEndpoint
        do {
            endpoint = try await ServiceEndpoint.resolve(namespace: namespace, service: name, port: port, registry: registry)
        } catch {
            throw Failure(reason: error.reason, message: error.description)
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let caBundle {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caBundle.utf8)))
            } catch {
                throw Failure(reason: "FailedDiscoveryCheck", message: "the caBundle holds no usable certificate")
            }
        }
        if let identity {
            tls.certificateChain = identity.chain.map { .certificate($0) }
            tls.privateKey = .privateKey(identity.key)
        }
        var configuration = HTTPClient.Configuration()
        configuration.tlsConfiguration = tls
        configuration.timeout.connect = connectTimeout
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = [host: endpoint.ip]
        configuration.decompression = .disabled
        configuration.tracing.tracer = nil  // no spans to record (see KubeRESTClient)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        return (client, "https://\(host):\(endpoint.port)")
    }
}

/// The client certificate the server presents to aggregated API servers, as kube-apiserver's
/// `--proxy-client-cert-file`: backends that trust the cluster CA for request headers can
/// then believe the `X-Remote-*` headers it sends.
public struct FrontProxyIdentity: Sendable {
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey

    public init(certificatePEM: String, keyPEM: String) throws {
        chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
    }
}
