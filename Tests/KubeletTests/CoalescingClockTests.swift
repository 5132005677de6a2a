import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// The clock a fleet's heartbeat loops share: sleeps end together on the first tick at or
/// after their deadline, a cancelled sleep leaves nothing behind, and a stopped clock ends
/// every sleep.
@Suite struct CoalescingClockTests {
    /// A sleep in a task of its own; `ended` says how it ended once it has.
    final class Sleeper: Sendable {
        let task: Task<Void, Never>
        let ended: Locked<String?>

        init(_ clock: CoalescingClock, until deadline: CoalescingClock.Instant) {
            let ended = Locked<String?>(nil)
            self.ended = ended
            task = Task {
                do {
                    try await clock.sleep(until: deadline)
                    ended.value = "woken"
                } catch is CancellationError {
                    ended.value = "cancelled"
                } catch {
                    ended.value = "\(error)"
                }
            }
        }
    }

    static func waitFor(_ what: @autoclosure () -> Bool) async {
        let deadline = Date().addingTimeInterval(10)
        while !what() && Date() < deadline { try? await Task.sleep(for: .milliseconds(2)) }
    }

    @Test func sleepsEndTogetherOnTheFirstTickAtOrAfterTheirDeadline() async {
        // Ticks an hour apart, woken by hand: real time plays no part.
        let clock = CoalescingClock(tick: .seconds(3600))
        let origin = clock.origin
        let early = Sleeper(clock, until: origin + .seconds(5400))  // tick 2
        let onTick = Sleeper(clock, until: origin + .seconds(7200))  // tick 2 exactly
        let late = Sleeper(clock, until: origin + .seconds(7201))  // tick 3
        await Self.waitFor(clock.sleeperCount == 3)
        #expect(clock.sleeperCount == 3)

        clock.wake(through: 1)
        try? await Task.sleep(for: .milliseconds(20))
        #expect(early.ended.value == nil && onTick.ended.value == nil && late.ended.value == nil)

        clock.wake(through: 2)
        await early.task.value
        await onTick.task.value
        #expect(early.ended.value == "woken")
        #expect(onTick.ended.value == "woken")
        #expect(late.ended.value == nil)
        #expect(clock.sleeperCount == 1)

        // A deadline in a tick already woken waits for the next one, not for ever.
        let behind = Sleeper(clock, until: origin + .seconds(60))
        await Self.waitFor(clock.sleeperCount == 2)
        clock.wake(through: 3)
        await late.task.value
        await behind.task.value
        #expect(late.ended.value == "woken")
        #expect(behind.ended.value == "woken")
        #expect(clock.sleeperCount == 0)
    }

    @Test func aWakeAfterALongStallReachesEveryTickPassed() async {
        let clock = CoalescingClock(tick: .seconds(3600))
        let origin = clock.origin
        let near = Sleeper(clock, until: origin + .seconds(3600 * 2))
        let far = Sleeper(clock, until: origin + .seconds(3600 * 1_000_000))
        await Self.waitFor(clock.sleeperCount == 2)
        clock.wake(through: 2_000_000)
        await near.task.value
        await far.task.value
        #expect(near.ended.value == "woken")
        #expect(far.ended.value == "woken")
    }

    @Test func aCancelledSleepThrowsAndLeavesNothingBehind() async {
        let clock = CoalescingClock(tick: .seconds(3600))
        let sleeper = Sleeper(clock, until: clock.origin + .seconds(7200))
        await Self.waitFor(clock.sleeperCount == 1)
        sleeper.task.cancel()
        await sleeper.task.value
        #expect(sleeper.ended.value == "cancelled")
        #expect(clock.sleeperCount == 0)

        // Cancelled before it sleeps: it never waits.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            do { try await clock.sleep(until: clock.origin + .seconds(7200)); return "woken" } catch { return "\(type(of: error))" }
        }
        #expect(await early.value == "CancellationError")
        #expect(clock.sleeperCount == 0)
    }

    @Test func stoppingTheClockEndsEverySleepThenAndLater() async {
        let clock = CoalescingClock(tick: .seconds(3600))
        let driver = Task { await clock.run() }
        let sleeper = Sleeper(clock, until: clock.origin + .seconds(7200))
        await Self.waitFor(clock.sleeperCount == 1)
        driver.cancel()
        await driver.value
        await sleeper.task.value
        #expect(sleeper.ended.value == "cancelled")
        #expect(clock.sleeperCount == 0)
        let later = Sleeper(clock, until: .now + .seconds(1))
        await later.task.value
        #expect(later.ended.value == "cancelled")
    }

    @Test func aRunningClockWakesSleepersNoEarlierThanTheirDeadline() async throws {
        let clock = CoalescingClock(tick: .milliseconds(20))
        let driver = Task { await clock.run() }
        defer { driver.cancel() }
        let start = ContinuousClock.now
        try await clock.sleep(for: .milliseconds(50))
        #expect(ContinuousClock.now - start >= .milliseconds(50))
        // Many sleepers on the same deadline all come back.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<100 { group.addTask { try? await clock.sleep(for: .milliseconds(30)) } }
        }
        #expect(clock.sleeperCount == 0)
    }

    @Test func withATickOfZeroItSleepsAsTheContinuousClock() async throws {
        let clock = CoalescingClock.continuous
        let start = ContinuousClock.now
        try await clock.sleep(for: .milliseconds(20))
        #expect(ContinuousClock.now - start >= .milliseconds(20))
        await clock.run()  // returns at once: nothing to drive
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            do { try await clock.sleep(for: .seconds(60)); return false } catch { return error is CancellationError }
        }
        #expect(await cancelled.value)
    }
}
