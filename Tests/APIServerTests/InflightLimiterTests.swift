import Testing

@testable import APIServer

@Suite struct InflightLimiterTests {
    @Test func poolsAreSeparateAndCapped() {
        let limiter = InflightLimiter(maxReadOnly: 2, maxMutating: 1)
        #expect(limiter.acquire(.readOnly))
        #expect(limiter.acquire(.readOnly))
        #expect(!limiter.acquire(.readOnly))
        // Reads filling their pool leave writes unaffected, as kube's two limits.
        #expect(limiter.acquire(.mutating))
        #expect(!limiter.acquire(.mutating))
        limiter.release(.readOnly)
        #expect(limiter.inflight(.readOnly) == 1)
        #expect(limiter.acquire(.readOnly))
        limiter.release(.mutating)
        #expect(limiter.acquire(.mutating))
    }

    @Test func zeroMeansUnlimited() {
        let limiter = InflightLimiter(maxReadOnly: 0, maxMutating: 0, maxWatchesPerUser: 0)
        for _ in 0..<1000 {
            #expect(limiter.acquire(.readOnly))
            #expect(limiter.acquire(.mutating))
            #expect(limiter.acquireWatch(user: "u"))
        }
    }

    @Test func watchesAreCappedPerUser() {
        let limiter = InflightLimiter(maxWatchesPerUser: 2)
        #expect(limiter.acquireWatch(user: "alice"))
        #expect(limiter.acquireWatch(user: "alice"))
        #expect(!limiter.acquireWatch(user: "alice"))
        #expect(limiter.acquireWatch(user: "bob"))
        limiter.releaseWatch(user: "alice")
        #expect(limiter.openWatches(user: "alice") == 1)
        #expect(limiter.acquireWatch(user: "alice"))
        // Watches do not take in-flight slots.
        #expect(limiter.inflight(.readOnly) == 0)
    }

    @Test func aWatchSlotIsReleasedWhenDropped() {
        let limiter = InflightLimiter(maxWatchesPerUser: 1)
        #expect(limiter.acquireWatch(user: "alice"))
        do {
            let slot = WatchSlot(limiter: limiter, user: "alice")
            withExtendedLifetime(slot) { #expect(!limiter.acquireWatch(user: "alice")) }
        }
        #expect(limiter.openWatches(user: "alice") == 0)
    }

    @Test func methodsMapToPools() {
        #expect(InflightLimiter.Kind(method: "GET") == .readOnly)
        #expect(InflightLimiter.Kind(method: "HEAD") == .readOnly)
        for m in ["POST", "PUT", "PATCH", "DELETE"] { #expect(InflightLimiter.Kind(method: m) == .mutating) }
    }

    @Test func tooManyRequestsIsKubesStatus() {
        let e = InflightLimiter.tooManyRequests()
        #expect(e.code == 429)
        #expect(e.reason == "TooManyRequests")
        #expect(e.headers.contains { $0 == ("Retry-After", "1") })
    }
}
