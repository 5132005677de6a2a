import Crypto
import Foundation
import KubeModel

/// Remembers successful bearer-token authentications for `ttl` (10 s, as kube-apiserver's
/// token cache): verifying a ServiceAccount JWT's signature and reading its bindings from the
/// store on every request is most of what an authenticated request costs. An entry also ends
/// at the token's own expiry (a JWT's `exp`), so the cache never accepts a token the check
/// would refuse for its age. Failures are not remembered, so a token becomes valid at once; a
/// revoked token (its ServiceAccount, Pod or Secret deleted) keeps working for at most `ttl`,
/// as in Kubernetes. Entries are keyed by the token's SHA-256, never the token itself, and the
/// table holds at most `capacity` of them. A `ttl` of zero remembers nothing.
public struct TokenAuthenticationCache: TokenAuthenticator {
    let authenticators: [any TokenAuthenticator]
    let ttl: TimeInterval
    let clock: @Sendable () -> Date
    private let entries: ExpiringTable<Data, UserInfo>

    public init(_ authenticators: [any TokenAuthenticator], ttl: Duration = .seconds(10), capacity: Int = 10_000,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.authenticators = authenticators
        self.ttl = max(0, Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18)
        self.entries = ExpiringTable(capacity: capacity)
        self.clock = clock
    }

    public func authenticate(token: String) async -> UserInfo? {
        await authenticateWithExpiry(token: token)?.user
    }

    public func authenticateWithExpiry(token: String) async -> (user: UserInfo, expires: Date?)? {
        guard ttl > 0 else { return await ask(token) }
        let key = Data(SHA256.hash(data: Data(token.utf8)))
        let now = clock()
        if let hit = entries.lookup(key, now: now) { return (hit.value, hit.until) }
        guard let answer = await ask(token) else { return nil }
        entries.insert(key, answer.user, until: min(now.addingTimeInterval(ttl), answer.expires ?? .distantFuture), now: now)
        return answer
    }

    private func ask(_ token: String) async -> (user: UserInfo, expires: Date?)? {
        for authenticator in authenticators {
            if let answer = await authenticator.authenticateWithExpiry(token: token) { return answer }
        }
        return nil
    }

    /// How many authentications are remembered (expired ones included until the next sweep).
    var count: Int { entries.count }
}
