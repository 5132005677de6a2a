import Crypto
import Foundation
import KubeModel

/// Remembers successful bearer-token authentications for `ttl` (10 s, as kube-apiserver's
/// token cache): verifying a ServiceAccount JWT's signature and reading its bindings from the
/// store on every request is most of what an authenticated request costs. Failures are not
/// remembered, so a token becomes valid at once; a revoked token (its ServiceAccount, Pod or
/// Secret deleted) keeps working for at most `ttl`, as in Kubernetes. Entries are keyed by the
/// token's SHA-256, never the token itself.
public struct TokenAuthenticationCache: TokenAuthenticator {
    let authenticators: [any TokenAuthenticator]
    let ttl: TimeInterval
    let capacity: Int
    let clock: @Sendable () -> Date
    private let entries = Locked<[Data: (user: UserInfo, until: Date)]>([:])

    public init(_ authenticators: [any TokenAuthenticator], ttl: Duration = .seconds(10), capacity: Int = 10_000,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.authenticators = authenticators
        self.ttl = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        self.capacity = max(1, capacity)
        self.clock = clock
    }

    public func authenticate(token: String) async -> UserInfo? {
        let key = Data(SHA256.hash(data: Data(token.utf8)))
        let now = clock()
        if let hit = entries.withLock({ $0[key] }), hit.until > now { return hit.user }
        for authenticator in authenticators {
            guard let user = await authenticator.authenticate(token: token) else { continue }
            remember(key, user, until: now.addingTimeInterval(ttl), now: now)
            return user
        }
        return nil
    }

    /// How many authentications are remembered (expired ones included until the next sweep).
    var count: Int { entries.withLock { $0.count } }

    private func remember(_ key: Data, _ user: UserInfo, until: Date, now: Date) {
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { $0.value.until > now }
                // Still full of live entries: start over rather than grow without bound.
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[key] = (user, until)
        }
    }
}
