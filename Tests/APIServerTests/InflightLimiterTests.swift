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

    @Test func aRequestOverTheCapWaitsInLineForTheNextFreeSlot() async throws {
        let limiter = InflightLimiter(maxReadOnly: 1, maxMutating: 1, queueWait: .seconds(60))
        #expect(limiter.acquire(.mutating))
        let first = Task { await limiter.acquireWaiting(.mutating) }
        while limiter.waiting(.mutating) < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let second = Task { await limiter.acquireWaiting(.mutating) }
        // The line holds as many as the pool: the second is refused at once.
        #expect(await second.value == false)
        // Reads have a line of their own.
        #expect(await limiter.acquireWaiting(.readOnly))
        // The freed slot goes straight to the first in line.
        limiter.release(.mutating)
        #expect(await first.value)
        #expect(limiter.inflight(.mutating) == 1)
        #expect(limiter.waiting(.mutating) == 0)
        limiter.release(.mutating)
        #expect(limiter.inflight(.mutating) == 0)
    }

    @Test func aWaitEndsWithARefusalAfterTheQueueWaitOrOnCancellation() async throws {
        let limiter = InflightLimiter(maxReadOnly: 1, maxMutating: 1, queueWait: .milliseconds(100))
        #expect(limiter.acquire(.mutating))
        #expect(await limiter.acquireWaiting(.mutating) == false)
        #expect(limiter.waiting(.mutating) == 0)

        let patient = InflightLimiter(maxReadOnly: 1, maxMutating: 1, queueWait: .seconds(600))
        #expect(patient.acquire(.mutating))
        let waiter = Task { await patient.acquireWaiting(.mutating) }
        while patient.waiting(.mutating) < 1 { try await Task.sleep(for: .milliseconds(5)) }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(patient.waiting(.mutating) == 0)
        // The refused waiter took no slot: releasing the one held empties the pool.
        patient.release(.mutating)
        #expect(patient.inflight(.mutating) == 0)
        #expect(await patient.acquireWaiting(.mutating))
    }

    @Test func withoutAQueueWaitAFullPoolRefusesAtOnce() async {
        let limiter = InflightLimiter(maxReadOnly: 1, maxMutating: 1, queueWait: .zero)
        #expect(limiter.acquire(.mutating))
        #expect(await limiter.acquireWaiting(.mutating) == false)
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
