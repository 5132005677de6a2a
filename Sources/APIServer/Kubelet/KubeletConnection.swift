import AsyncHTTPClient
import Foundation
import KubeModel
import NIOSSL

/// How this API server reaches kubelets for pods/log and pods/exec: HTTPS with its
/// `kube-apiserver-kubelet-client` certificate. The kubelet's serving certificate is
/// self-signed and not verified, as kube-apiserver does by default (no
/// `--kubelet-certificate-authority`). Without TLS (`--tls=false`) there is no client
/// certificate and kubelets refuse the request: debugging mode only.
public struct KubeletClientConfig: Sendable {
    public let tls: TLSConfiguration

    public init(clientCertificate: CertificateKeyPair?) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        if let pair = clientCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(pair.certificatePEM.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(pair.keyPEM.utf8), format: .pem))
        }
        self.tls = tls
    }

    /// One client for every kubelet (each request brings its TLS settings). A kubelet that
    /// does not answer fails at once rather than being retried until the (absent) deadline.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tracing.tracer = nil  // no spans to record (see KubeRESTClient)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}

/// Where a pod's kubelet listens, from its Node: the InternalIP (else another address) and
/// `status.daemonEndpoints.kubeletEndpoint.Port`.
struct KubeletTarget: Sendable {
    var node: String
    var host: String
    var port: Int

    /// `host:port` for a URL (IPv6 in brackets).
    var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The pod, its node's kubelet, and the container meant (the only one when not named).
    static func resolve(registry: Registry, namespace: String, pod name: String, container: String?) async throws
        -> (pod: JSONValue, kubelet: KubeletTarget, container: String)
    {
        guard let pods = registry.catalog.strategy(group: "", plural: "pods"),
              let nodes = registry.catalog.strategy(group: "", plural: "nodes") else {
            throw APIError.internalError("pods and nodes are not served")
        }
        let pod = try await registry.get(pods, version: "v1", namespace: namespace, name: name)
        let container = try containerName(pod, name: name, requested: container)
        let nodeName = pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        guard !nodeName.isEmpty else { throw APIError.badRequest("pod \(name) does not have a host assigned") }
        let node = try await node(registry, nodes, nodeName, pod: name)
        guard let target = of(node: node) else {
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "node \(nodeName) has no address to reach its kubelet")
        }
        return (pod, target, container)
    }

    /// The kubelet of `node`; nil when the node reports no address.
    static func of(node: JSONValue) -> KubeletTarget? {
        let addresses = node[path: ["status", "addresses"]]?.arrayValue ?? []
        func address(_ type: String) -> String? {
            addresses.first { $0["type"]?.stringValue == type }?["address"]?.stringValue
        }
        guard let name = node.name, let host = address("InternalIP") ?? address("ExternalIP") ?? address("Hostname") else { return nil }
        let port = node[path: ["status", "daemonEndpoints", "kubeletEndpoint", "Port"]]?.intValue.map(Int.init) ?? 10250
        return KubeletTarget(node: name, host: host, port: port > 0 ? port : 10250)
    }

    private static func node(_ registry: Registry, _ nodes: any ResourceStrategy, _ nodeName: String, pod: String) async throws -> JSONValue {
        let result: Result<JSONValue, APIError>
        do { result = .success(try await registry.get(nodes, version: "v1", namespace: nil, name: nodeName)) } catch { result = .failure(error) }
        switch result {
        case .success(let node): return node
        case .failure(let e) where e.code == 404:
            throw APIError(code: 503, reason: "ServiceUnavailable", message: "node \(nodeName) of pod \(pod) does not exist")
        case .failure(let e): throw e
        }
    }

    static func containerName(_ pod: JSONValue, name: String, requested: String?) throws -> String {
        func names(_ key: String) -> [String] {
            (pod[path: ["spec", key]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        let containers = names("containers")
        if let requested, !requested.isEmpty {
            let all = containers + names("initContainers") + names("ephemeralContainers")
            guard all.contains(requested) else { throw APIError.badRequest("container \(requested) is not valid for pod \(name)") }
            return requested
        }
        if containers.count == 1 { return containers[0] }
        var message = "a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]"
        let inits = names("initContainers")
        if !inits.isEmpty { message += " or one of the init containers: [\(inits.joined(separator: " "))]" }
        throw APIError.badRequest(message)
    }

    static func unreachable(_ target: KubeletTarget, _ error: any Error) -> APIError {
        APIError(code: 503, reason: "ServiceUnavailable",
                 message: "unable to reach the kubelet of node \(target.node) at \(target.authority): \(error)")
    }

    /// The raw query pairs of `query` whose keys are in `keys`, still encoded, joined again.
    static func forward(_ query: String?, keys: Set<String>) -> String {
        guard let query else { return "" }
        return query.split(separator: "&").filter { pair in
            QueryParameters.decode(pair.split(separator: "=", maxSplits: 1).first ?? "").map(keys.contains) ?? false
        }.joined(separator: "&")
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    static func escape(_ s: String) -> String {
        PercentEncoding.encode(s)
    }
}
