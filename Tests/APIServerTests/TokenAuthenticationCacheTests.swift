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
        let cache = TokenAuthenticationCache([inner], capacity: 8)
        for i in 0..<50 { _ = await cache.authenticate(token: "t\(i)") }
        #expect(cache.count <= 8)
    }
}
