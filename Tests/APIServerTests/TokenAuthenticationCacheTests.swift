import Foundation
import KubeModel
import Testing
@testable import APIServer

@Suite struct TokenAuthenticationCacheTests {
    /// Accepts the tokens in `valid`, counting every question.
    final class Counting: TokenAuthenticator, Sendable {
        let valid = Locked<Set<String>>(["good"])
        let asked = Locked(0)
        func authenticate(token: String) async -> UserInfo? {
            asked.withLock { $0 += 1 }
            return valid.value.contains(token) ? UserInfo(name: "u-\(token)") : nil
        }
    }

    @Test func successesAreRememberedForTheTTLFailuresNever() async {
        let inner = Counting()
        let now = Locked(Date(timeIntervalSince1970: 1_000_000))
        let cache = TokenAuthenticationCache([inner], ttl: .seconds(10), clock: { now.value })
        #expect(await cache.authenticate(token: "good")?.name == "u-good")
        #expect(await cache.authenticate(token: "good")?.name == "u-good")
        #expect(inner.asked.value == 1)

        // Revoked meanwhile: still accepted until the entry runs out, then refused.
        inner.valid.value = []
        now.withLock { $0.addTimeInterval(9) }
        #expect(await cache.authenticate(token: "good") != nil)
        now.withLock { $0.addTimeInterval(2) }
        #expect(await cache.authenticate(token: "good") == nil)
        #expect(inner.asked.value == 2)

        // A failure is asked again every time, so a new token works at once.
        #expect(await cache.authenticate(token: "new") == nil)
        inner.valid.value = ["new"]
        #expect(await cache.authenticate(token: "new")?.name == "u-new")
    }

    @Test func theTableStaysBounded() async {
        let inner = Counting()
        inner.valid.value = Set((0..<50).map { "t\($0)" })
        let now = Locked(Date(timeIntervalSince1970: 1_000_000))
        let cache = TokenAuthenticationCache([inner], capacity: 8, clock: { now.value })
        for i in 0..<50 {
            now.withLock { $0.addTimeInterval(0.01) }
            _ = await cache.authenticate(token: "t\(i)")
        }
        #expect(cache.count <= 8)
        // The newest entries are the ones kept: the last token is still a hit.
        let asked = inner.asked.value
        #expect(await cache.authenticate(token: "t49") != nil)
        #expect(inner.asked.value == asked)
    }

    /// Answers with a fixed expiry, as a JWT's `exp`.
    struct Expiring: TokenAuthenticator {
        let expires: Date
        let asked = Locked(0)
        func authenticate(token: String) async -> UserInfo? { await authenticateWithExpiry(token: token)?.user }
        func authenticateWithExpiry(token: String) async -> (user: UserInfo, expires: Date?)? {
            asked.withLock { $0 += 1 }
            return (UserInfo(name: "jwt"), expires)
        }
    }

    @Test func anEntryEndsNoLaterThanItsToken() async {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let now = Locked(start)
        let inner = Expiring(expires: start.addingTimeInterval(3))
        let cache = TokenAuthenticationCache([inner], ttl: .seconds(10), clock: { now.value })
        #expect(await cache.authenticate(token: "jwt") != nil)
        now.value = start.addingTimeInterval(2)
        #expect(await cache.authenticate(token: "jwt") != nil)
        #expect(inner.asked.value == 1)
        // Past the token's exp (though inside the TTL) the check is made again.
        now.value = start.addingTimeInterval(4)
        _ = await cache.authenticate(token: "jwt")
        #expect(inner.asked.value == 2)
        // An answer whose token has already expired is not remembered at all.
        _ = await cache.authenticate(token: "jwt")
        #expect(inner.asked.value == 3)
    }

    @Test func aZeroTTLRemembersNothing() async {
        let inner = Counting()
        let cache = TokenAuthenticationCache([inner], ttl: .zero)
        for _ in 0..<3 { #expect(await cache.authenticate(token: "good") != nil) }
        #expect(inner.asked.value == 3)
        #expect(cache.count == 0)
    }
}
