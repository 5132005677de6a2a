import Crypto
import Foundation
import KubeModel

/// The ES256 (P-256) key pair that signs ServiceAccount tokens, kept in
/// `DIR/pki/service-account.key` (0600) and `.pub`. Made on first start, like the CA, so
/// tokens survive restarts.
public struct ServiceAccountSigningKey: Sendable {
    public let privateKey: P256.Signing.PrivateKey
    /// The JWS `kid`: base64url SHA-256 of the public key's DER, so a verifier can tell keys apart.
    public let keyID: String

    public init(privateKey: P256.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.keyID = JWS.base64URL(Array(SHA256.hash(data: privateKey.publicKey.derRepresentation)))
    }

    public var publicKey: P256.Signing.PublicKey { privateKey.publicKey }

    /// Reads `directory/service-account.key`, creating the pair when missing.
    public static func loadOrCreate(directory: String) throws -> ServiceAccountSigningKey {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyPath = (directory as NSString).appendingPathComponent("service-account.key")
        let pubPath = (directory as NSString).appendingPathComponent("service-account.pub")
        if let pem = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            do {
                return ServiceAccountSigningKey(privateKey: try P256.Signing.PrivateKey(pemRepresentation: pem))
            } catch {
                throw PKIError("cannot read the service account key \(keyPath): \(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        try SecureFile.writeAtomically(keyPath, key.pemRepresentation, mode: 0o600)
        try SecureFile.writeAtomically(pubPath, key.publicKey.pemRepresentation, mode: 0o644)
        return ServiceAccountSigningKey(privateKey: key)
    }
}

/// Compact JWS with ES256, written by hand: `base64url(header).base64url(claims).base64url(r||s)`.
/// JWS wants the raw 64-byte signature, not the DER one X.509 uses.
public enum JWS {
    /// A signed token over `claims`.
    public static func sign(_ claims: JSONValue, key: ServiceAccountSigningKey) throws -> String {
        let header: JSONValue = ["alg": "ES256", "kid": .string(key.keyID), "typ": "JWT"]
        let signingInput = base64URL(JSONWriter.bytes(header)) + "." + base64URL(JSONWriter.bytes(claims))
        let signature = try key.privateKey.signature(for: Array(signingInput.utf8))
        return signingInput + "." + base64URL(Array(signature.rawRepresentation))
    }

    /// The claims of a well-formed ES256 token whose signature `key` verifies; nil otherwise.
    /// Times and audiences are the caller's business.
    public static func verify(_ token: String, key: P256.Signing.PublicKey) -> JSONValue? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = fromBase64URL(parts[0]), let claimBytes = fromBase64URL(parts[1]),
              let sigBytes = fromBase64URL(parts[2]), sigBytes.count == 64,
              let header = try? JSONParser.parse(headerBytes, maxDepth: 8), header["alg"]?.stringValue == "ES256",
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: sigBytes)
        else { return nil }
        let signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        guard key.isValidSignature(signature, for: signingInput),
              let claims = try? JSONParser.parse(claimBytes, maxDepth: 16), claims.objectValue != nil else { return nil }
        return claims
    }

    /// Whether `token` looks like a JWT at all (three dot-separated parts, JSON header), so other
    /// authenticators' tokens are not needlessly verified.
    static func looksLikeJWT(_ token: String) -> Bool {
        token.hasPrefix("eyJ") && token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }

    public static func base64URL(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    static func fromBase64URL(_ s: Substring) -> [UInt8]? {
        // A real token is a few KiB; refuse absurd inputs before allocating.
        guard s.utf8.count <= 64 * 1024 else { return nil }
        var b64 = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard !b64.contains("=") else { return nil }
        while b64.utf8.count % 4 != 0 { b64 += "=" }
        return Data(base64Encoded: b64).map { Array($0) }
    }
}

/// What a ServiceAccount token says, as Kubernetes' claims: the standard JWT ones plus a
/// private `kubernetes.io` object naming the account and the object it is bound to.
public struct ServiceAccountClaims: Sendable, Equatable {
    public struct Ref: Sendable, Equatable {
        public var name: String
        public var uid: String
        public init(name: String, uid: String) { self.name = name; self.uid = uid }
    }

    public var issuer: String
    public var audiences: [String]
    public var namespace: String
    public var serviceAccount: Ref
    public var pod: Ref?
    public var secret: Ref?
    public var node: Ref?
    public var issuedAt: Int64
    public var notBefore: Int64
    public var expiresAt: Int64
    public var id: String

    public init(issuer: String, audiences: [String], namespace: String, serviceAccount: Ref, pod: Ref? = nil,
                secret: Ref? = nil, node: Ref? = nil, issuedAt: Int64, expiresAt: Int64, id: String = RandomUUID.string()) {
        self.issuer = issuer
        self.audiences = audiences
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.pod = pod
        self.secret = secret
        self.node = node
        self.issuedAt = issuedAt
        self.notBefore = issuedAt
        self.expiresAt = expiresAt
        self.id = id
    }

    /// `system:serviceaccount:NS:NAME`, the token's user name.
    public var subject: String { "system:serviceaccount:\(namespace):\(serviceAccount.name)" }

    public var json: JSONValue {
        func ref(_ r: Ref) -> JSONValue { ["name": .string(r.name), "uid": .string(r.uid)] }
        var k8s: JSONValue = ["namespace": .string(namespace), "serviceaccount": ref(serviceAccount)]
        if let pod { k8s["pod"] = ref(pod) }
        if let secret { k8s["secret"] = ref(secret) }
        if let node { k8s["node"] = ref(node) }
        return ["iss": .string(issuer), "sub": .string(subject), "aud": .array(audiences.map { .string($0) }),
                "exp": .int(expiresAt), "iat": .int(issuedAt), "nbf": .int(notBefore), "jti": .string(id),
                "kubernetes.io": k8s]
    }

    /// Claims read back from a verified token; nil when a required one is missing or malformed.
    public init?(json c: JSONValue) {
        func ref(_ v: JSONValue?) -> Ref? {
            guard let name = v?["name"]?.stringValue, let uid = v?["uid"]?.stringValue else { return nil }
            return Ref(name: name, uid: uid)
        }
        // `aud` may be one string or a list (RFC 7519).
        let aud: [String] = c["aud"]?.stringValue.map { [$0] } ?? (c["aud"]?.arrayValue ?? []).compactMap(\.stringValue)
        let k8s = c["kubernetes.io"]
        guard let iss = c["iss"]?.stringValue, let exp = c["exp"]?.intValue, let ns = k8s?["namespace"]?.stringValue,
              let sa = ref(k8s?["serviceaccount"]), c["sub"]?.stringValue == "system:serviceaccount:\(ns):\(sa.name)"
        else { return nil }
        self.issuer = iss
        self.audiences = aud
        self.namespace = ns
        self.serviceAccount = sa
        self.pod = ref(k8s?["pod"])
        self.secret = ref(k8s?["secret"])
        self.node = ref(k8s?["node"])
        self.issuedAt = c["iat"]?.intValue ?? 0
        self.notBefore = c["nbf"]?.intValue ?? self.issuedAt
        self.expiresAt = exp
        self.id = c["jti"]?.stringValue ?? ""
    }
}

/// Issues ServiceAccount tokens with the server's key and issuer; `serviceaccounts/token`
/// finds it in the server's `ServerEnvironment`.
public struct ServiceAccountTokenIssuer: Sendable {
    /// Kubernetes' default issuer, which is also the default (and accepted) audience.
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"

    public let key: ServiceAccountSigningKey
    public let issuer: String

    public init(key: ServiceAccountSigningKey, issuer: String = ServiceAccountTokenIssuer.defaultIssuer) {
        self.key = key
        self.issuer = issuer
    }

    public func issue(_ claims: ServiceAccountClaims) throws -> String { try JWS.sign(claims.json, key: key) }
}
