import Crypto
import Foundation
import KubeClient
import KubeModel
import Logging
import SwiftASN1
import X509

/// TLS bootstrap of a joining kubelet, kubeadm style: read the CA from the anonymous
/// `kube-public/cluster-info`, pin it by `--ca-cert-hash`, then ask for a client certificate
/// with a CertificateSigningRequest made with the bootstrap token, and write
/// `ROOT/kubelet.kubeconfig` with it. A later start reuses that file while its certificate is valid.
public struct KubeletBootstrap: Sendable {
    /// What `caravel server` printed.
    public struct Join: Sendable {
        public var server: String
        public var token: String
        /// `sha256:<hex>` of the CA certificate's SubjectPublicKeyInfo.
        public var caCertHash: String
        /// How long to wait for the certificate.
        public var timeout: Duration = .seconds(300)

        public init(server: String, token: String, caCertHash: String) {
            self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
            self.token = token
            self.caCertHash = caCertHash.lowercased()
        }
    }

    static let clusterInfoPath = "/api/v1/namespaces/kube-public/configmaps/cluster-info"
    static let csrPath = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    static let signerName = "kubernetes.io/kube-apiserver-client-kubelet"
    /// A certificate this close to expiry is not reused.
    static let minRemaining: TimeInterval = 3600

    let join: Join
    let nodeName: String
    let rootDirectory: String
    let logger: Logger

    public init(join: Join, nodeName: String, rootDirectory: String, logger: Logger) {
        self.join = join
        self.nodeName = nodeName
        self.rootDirectory = rootDirectory
        self.logger = logger
    }

    public var kubeconfigPath: String { (rootDirectory as NSString).appendingPathComponent("kubelet.kubeconfig") }

    /// The kubeconfig to run with: the existing one when still good, else a new one.
    public func ensureKubeconfig(now: Date = Date()) async throws -> String {
        if reusable(now: now) {
            logger.info("reusing the kubelet's client certificate", metadata: ["kubeconfig": .string(kubeconfigPath)])
            return kubeconfigPath
        }
        guard join.caCertHash.hasPrefix("sha256:") else {
            throw KubeconfigError("--ca-cert-hash must be sha256:<hex of the CA's public key>, got \(join.caCertHash)")
        }
        let caPEM = try await discoverCA()
        let (certPEM, keyPEM) = try await requestCertificate(caPEM: caPEM)
        try FileManager.default.createDirectory(atPath: rootDirectory, withIntermediateDirectories: true)
        let text = Self.kubeconfig(server: join.server, user: "system:node:" + nodeName, caPEM: caPEM, certPEM: certPEM, keyPEM: keyPEM)
        try Self.writePrivate(text, to: kubeconfigPath)
        logger.notice("joined the cluster with a signed client certificate", metadata: ["kubeconfig": .string(kubeconfigPath)])
        return kubeconfigPath
    }

    /// The existing kubeconfig names this node, pins the same CA, and its certificate lasts.
    func reusable(now: Date) -> Bool {
        guard let c = try? Kubeconfig.load(path: kubeconfigPath), c.server == join.server,
              case .data(let certBytes)? = c.clientCertificate, case .data(let caBytes)? = c.certificateAuthority,
              let cert = try? Certificate(pemEncoded: String(decoding: certBytes, as: UTF8.self)),
              let hash = try? Self.caCertHash(certificatePEM: String(decoding: caBytes, as: UTF8.self)), hash == join.caCertHash
        else { return false }
        let names = Self.commonName(cert.subject)
        return names == "system:node:" + nodeName && cert.notValidAfter.timeIntervalSince(now) > Self.minRemaining
    }

    // MARK: - discovery

    /// The CA from cluster-info, fetched without verifying the server (we do not know the CA
    /// yet) and accepted only if its key matches the pinned hash.
    func discoverCA() async throws -> String {
        let client = try KubeRESTClient(connection: ClusterConnection(server: join.server, insecureSkipTLSVerify: true),
                                        options: .init(requestTimeout: .seconds(15), userAgent: "caravel-kubelet/\(nodeName) (bootstrap)"))
        defer { Task { try? await client.shutdown() } }
        let cm: JSONValue
        do { cm = try await client.get(Self.clusterInfoPath) } catch {
            throw KubeconfigError("cannot read cluster-info from \(join.server): \(error)")
        }
        guard let text = cm[path: ["data", "kubeconfig"]]?.stringValue, let doc = try? YAMLDecoding.decode(text),
              let b64 = doc["clusters"]?.arrayValue?.first?[path: ["cluster", "certificate-authority-data"]]?.stringValue,
              let der = Data(base64Encoded: b64) else {
            throw KubeconfigError("cluster-info from \(join.server) holds no CA certificate")
        }
        let caPEM = String(decoding: der, as: UTF8.self)
        let actual = try Self.caCertHash(certificatePEM: caPEM)
        guard actual == join.caCertHash else {
            throw KubeconfigError("the server's CA does not match --ca-cert-hash: expected \(join.caCertHash), got \(actual); refusing to join (wrong server, or a stale join command?)")
        }
        return caPEM
    }

    // MARK: - certificate request

    /// A new P-256 key and a CSR for `CN=system:node:NAME, O=system:nodes`, created with the
    /// bootstrap token; waits until it is issued, denied or failed.
    func requestCertificate(caPEM: String) async throws -> (cert: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("system:nodes")
            CommonName("system:node:" + nodeName)
        }
        let csr = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
                                                attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        let requestPEM = try csr.serializeAsPEM().pemString
        let connection = ClusterConnection(server: join.server, certificateAuthority: .data(Array(caPEM.utf8)), credential: .token(join.token))
        let client = try KubeRESTClient(connection: connection, options: .init(requestTimeout: .seconds(15), userAgent: "caravel-kubelet/\(nodeName) (bootstrap)"))
        defer { Task { try? await client.shutdown() } }
        let body: JSONValue = [
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": ["generateName": "node-csr-"],
            "spec": ["request": .string(Data(requestPEM.utf8).base64EncodedString()), "signerName": .string(Self.signerName),
                     "usages": ["digital signature", "client auth"]],
        ]
        let created: JSONValue
        do { created = try await client.create(Self.csrPath, body) } catch let e as KubeAPIError where e.code == 401 {
            throw KubeconfigError("the server refused the join token (401 Unauthorized): check --token, or make a new one on the server")
        }
        guard let name = created.name else { throw KubeconfigError("the server answered the CSR without a name") }
        logger.info("waiting for the certificate signing request to be approved and signed", metadata: ["csr": .string(name)])
        let cert = try await waitForCertificate(client, name: name)
        return (cert, key.pemRepresentation)
    }

    func waitForCertificate(_ client: KubeRESTClient, name: String) async throws -> String {
        let deadline = ContinuousClock.now + join.timeout
        while ContinuousClock.now < deadline {
            if let csr = try? await client.get(Self.csrPath + "/" + name) {
                for c in csr[path: ["status", "conditions"]]?.arrayValue ?? [] where ["Denied", "Failed"].contains(c["type"]?.stringValue ?? "") {
                    throw KubeconfigError("certificate signing request \(name) was \(c["type"]?.stringValue?.lowercased() ?? "refused"): \(c["message"]?.stringValue ?? "")")
                }
                if let b64 = csr[path: ["status", "certificate"]]?.stringValue, let d = Data(base64Encoded: b64), !d.isEmpty {
                    return String(decoding: d, as: UTF8.self)
                }
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw KubeconfigError("certificate signing request \(name) was not approved and signed within \(join.timeout): is the controller manager running? (`kubectl certificate approve \(name)` approves it by hand)")
    }

    // MARK: - helpers

    static func commonName(_ subject: DistinguishedName) -> String? {
        for rdn in subject { for a in rdn where a.type == .RDNAttributeType.commonName { return String(a.value) } }
        return nil
    }

    /// `sha256:<hex>` of the SubjectPublicKeyInfo DER, as kubeadm's CA pin.
    public static func caCertHash(certificatePEM: String) throws -> String {
        let cert = try Certificate(pemEncoded: certificatePEM)
        var serializer = DER.Serializer()
        try serializer.serialize(cert.publicKey)
        return "sha256:" + SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
    }

    static func kubeconfig(server: String, user: String, caPEM: String, certPEM: String, keyPEM: String) -> String {
        KubeconfigText.render(server: server, user: user, caPEM: caPEM, clientCertificatePEM: certPEM, clientKeyPEM: keyPEM)
    }

    /// Written 0600 from the start (it holds the key), then renamed into place.
    static func writePrivate(_ text: String, to path: String) throws {
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw KubeconfigError("cannot create \(tmp): errno \(errno)") }
        let ok = Array(text.utf8).withUnsafeBytes { buf in write(fd, buf.baseAddress, buf.count) == buf.count }
        close(fd)
        guard ok, rename(tmp, path) == 0 else { throw KubeconfigError("cannot write \(path): errno \(errno)") }
    }
}
