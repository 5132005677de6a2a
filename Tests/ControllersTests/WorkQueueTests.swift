import KubeTesting
import Testing
@testable import KubeClient

@Suite struct WorkQueueTests {
    @Test func duplicatesAreHandedOutOnce() async {
        let q = WorkQueue<String, ManualClock>(clock: ManualClock())
        q.add("a")
        q.add("b")
        q.add("a")
        #expect(q.count == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        #expect(q.count == 0)
    }

    @Test func keyAddedWhileProcessingComesBackAfterDone() async {
        let q = WorkQueue<String, ManualClock>(clock: ManualClock())
        q.add("a")
        #expect(await q.get() == "a")
        q.add("a")
        q.add("a")
        // Not handed to a second worker while the first one holds it.
        #expect(q.count == 0)
        q.done("a")
        #expect(q.count == 1)
        #expect(await q.get() == "a")
        q.done("a")
        #expect(q.count == 0)
    }

    @Test func waitingWorkerGetsTheNextItem() async {
        let q = WorkQueue<String, ManualClock>(clock: ManualClock())
        async let item = q.get()
        // Let the worker park before the item arrives.
        _ = await eventually { q.waitingWorkers == 1 }
        q.add("x")
        #expect(await item == "x")
    }

    @Test func backoffDoublesFromFiveMillisecondsToTheCap() {
        var b = ItemBackoff<String>()
        #expect(b.next("k") == .milliseconds(5))
        #expect(b.next("k") == .milliseconds(10))
        #expect(b.next("k") == .milliseconds(20))
        #expect(b.next("other") == .milliseconds(5))
        #expect(b.failures("k") == 3)
        #expect(b.delay(afterFailures: 30) == .seconds(1000))
        #expect(b.delay(afterFailures: 1000) == .seconds(1000))
        b.forget("k")
        #expect(b.failures("k") == 0)
        #expect(b.next("k") == .milliseconds(5))
    }

    @Test func rateLimitedItemsWaitTheirBackoffOnTheInjectedClock() async {
        let clock = ManualClock()
        let q = WorkQueue<String, ManualClock>(clock: clock, backoff: ItemBackoff(base: .seconds(1), max: .seconds(60)))
        async let runner: Void = q.run()
        q.addRateLimited("k")  // 1 s
        #expect(q.count == 0)
        #expect(q.delayedCount == 1)
        _ = await eventually { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(999))
        #expect(q.count == 0)
        clock.advance(by: .milliseconds(1))
        let first = await eventually { q.count == 1 }
        #expect(first)
        let item = await q.get()
        #expect(item == "k")
        q.done("k")

        q.addRateLimited("k")  // 2 s now
        _ = await eventually { clock.sleeperCount == 1 && q.delayedCount == 1 }
        clock.advance(by: .seconds(1))
        // The sleeper's deadline (2 s) is not reached, so nothing could have moved.
        #expect(q.count == 0 && q.delayedCount == 1)
        clock.advance(by: .seconds(1))
        let second = await eventually { q.count == 1 }
        #expect(second)
        #expect(q.numRequeues("k") == 2)

        q.forget("k")
        #expect(q.numRequeues("k") == 0)
        q.shutdown()
        await runner
    }

    @Test func earlierDelayWinsAndShutdownReleasesWorkers() async {
        let clock = ManualClock()
        let q = WorkQueue<String, ManualClock>(clock: clock)
        async let runner: Void = q.run()
        q.addAfter("k", .seconds(10))
        q.addAfter("k", .seconds(1))
        _ = await eventually { clock.sleeperCount == 1 && q.delayedCount == 1 }
        clock.advance(by: .seconds(1))
        let moved = await eventually { q.count == 1 }
        #expect(moved)
        let item = await q.get()
        #expect(item == "k")
        q.done("k")

        async let released = q.get()
        _ = await eventually { q.waitingWorkers == 1 }
        q.shutdown()
        let last = await released
        #expect(last == nil)
        q.add("late")
        #expect(q.count == 0)
        await runner
    }

    @Test func runSleepsBetweenDeadlinesAfterOneHasPassed() async {
        let clock = ManualClock()
        let q = WorkQueue<String, ManualClock>(clock: clock)
        async let runner: Void = q.run()
        // A deadline that passes ends the loop's wait for a wake-up; the next wait must still
        // block, not return at once for ever after.
        for round in 1...3 {
            q.addAfter("k\(round)", .seconds(1))
            _ = await eventually { clock.sleeperCount == 1 && q.delayedCount == 1 }
            clock.advance(by: .seconds(1))
            #expect(await eventually { q.count == 1 })
            #expect(await q.get() == "k\(round)")
            q.done("k\(round)")
        }
        let settled = q.releasePasses
        try? await Task.sleep(for: .milliseconds(200))
        #expect(q.releasePasses - settled <= 1, "run() spun \(q.releasePasses - settled) times with nothing to do")
        q.shutdown()
        await runner
    }

    @Test func cancelledWorkerGetsNil() async {
        let q = WorkQueue<String, ManualClock>(clock: ManualClock())
        let task = Task { await q.get() }
        _ = await eventually { q.waitingWorkers == 1 }
        task.cancel()
        #expect(await task.value == nil)
        q.add("a")
        #expect(q.count == 1)
    }
}
