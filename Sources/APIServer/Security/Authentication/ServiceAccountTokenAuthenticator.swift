import Crypto
import Foundation
import KubeModel

/// Accepts ServiceAccount JWTs this server signed: a valid ES256 signature, our issuer, an
/// audience we accept, inside nbf…exp, and — read from the store at every request, so a
/// revocation is immediate — the ServiceAccount and any bound Pod or Secret still existing
/// with the uids in the token. A pod-bound token dies when its pod's deletion deadline passes.
public struct ServiceAccountTokenAuthenticator: TokenAuthenticator {
    let store: any Store
    let keys: [P256.Signing.PublicKey]
    let issuer: String
    /// A token must name one of these in `aud`.
    let audiences: Set<String>
    let clock: @Sendable () -> Date
    /// Allowed clock skew for exp/nbf, as Kubernetes' validator.
    static let leeway: Int64 = 60

    public init(store: any Store, keys: [P256.Signing.PublicKey], issuer: String = ServiceAccountTokenIssuer.defaultIssuer,
                audiences: [String]? = nil, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.keys = keys
        self.issuer = issuer
        self.audiences = Set(audiences ?? [issuer])
        self.clock = clock
    }

    public func authenticate(token: String) async -> UserInfo? {
        await authenticateWithExpiry(token: token)?.user
    }

    /// The user and the token's `exp`.
    public func authenticateWithExpiry(token: String) async -> (user: UserInfo, expires: Date?)? {
        guard JWS.looksLikeJWT(token), let claims = verifiedClaims(token) else { return nil }
        guard await stillBound(claims) else { return nil }
        let ns = claims.namespace
        let user = UserInfo(name: claims.subject, uid: claims.serviceAccount.uid,
                            groups: ["system:serviceaccounts", "system:serviceaccounts:\(ns)"])
        return (user, Date(timeIntervalSince1970: TimeInterval(claims.expiresAt)))
    }

    /// Claims of a token that passes the offline checks (signature, issuer, audience, times).
    func verifiedClaims(_ token: String) -> ServiceAccountClaims? {
        guard let json = keys.lazy.compactMap({ JWS.verify(token, key: $0) }).first,
              let claims = ServiceAccountClaims(json: json),
              claims.issuer == issuer, claims.audiences.contains(where: audiences.contains) else { return nil }
        let now = Int64(clock().timeIntervalSince1970)
        guard now < claims.expiresAt + Self.leeway, now + Self.leeway >= claims.notBefore else { return nil }
        return claims
    }

    /// Whether the account and the bound object still exist as the token knew them.
    func stillBound(_ claims: ServiceAccountClaims) async -> Bool {
        let ns = claims.namespace
        guard let sa = await object("/registry/core/serviceaccounts/\(ns)/\(claims.serviceAccount.name)"),
              sa.uid == claims.serviceAccount.uid, sa[path: ["metadata", "deletionTimestamp"]] == nil else { return false }
        if let pod = claims.pod {
            guard let live = await object("/registry/core/pods/\(ns)/\(pod.name)"), live.uid == pod.uid,
                  !Self.pastDeletion(live, now: clock()) else { return false }
        }
        if let secret = claims.secret {
            guard let live = await object("/registry/core/secrets/\(ns)/\(secret.name)"), live.uid == secret.uid,
                  live[path: ["metadata", "deletionTimestamp"]] == nil else { return false }
        }
        return true
    }

    /// A pod's deletionTimestamp is the end of its grace period: the token lives through the
    /// graceful shutdown and no longer.
    static func pastDeletion(_ object: JSONValue, now: Date) -> Bool {
        guard let ts = object[path: ["metadata", "deletionTimestamp"]]?.stringValue else { return false }
        guard let deadline = Timestamp.parse(ts) else { return true }
        return deadline <= now
    }

    private func object(_ key: String) async -> JSONValue? {
        (try? await store.get(key: key))?.object
    }
}
