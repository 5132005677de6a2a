import Foundation
import KubeModel
import Testing
@testable import Kubelet

/// The heartbeats' own thread: a renewal must run while the shared pool is taken by other work.
@Suite struct HeartbeatExecutorTests {
    actor Counter {
        var value = 0
        func bump() -> Int { value += 1; return value }
    }

    @Test func aHeartbeatAndTheActorsItCallsRunWhileEveryPoolThreadIsBlocked() async throws {
        let executor = HeartbeatExecutor(name: "test-heartbeats")
        defer { executor.shutdown() }
        let width = ProcessInfo.processInfo.activeProcessorCount
        let started = Locked(0), beat = Locked(false), sawBeat = Locked(0)
        let deadline = Date().addingTimeInterval(10)
        // One task per pool thread, each holding its thread until the heartbeat has run (or
        // the deadline passes). A heartbeat queued on the pool could only run after them.
        let blockers = (0..<width).map { _ in
            Task.detached {
                started.withLock { $0 += 1 }
                while !beat.value && Date() < deadline { usleep(500) }
                if beat.value { sawBeat.withLock { $0 += 1 } }
            }
        }
        let counter = Counter()
        // Other suites run alongside and may hold pool threads too: a blocker that cannot start
        // within a few seconds finds the pool taken all the same. The beat still comes before
        // the blockers' deadline, so each of them, started then or later, sees it.
        let patience = Date().addingTimeInterval(5)
        let heartbeat = Task(executorPreference: executor) {
            // Blocking here is fine: this is the heartbeats' thread, not the pool's.
            while started.value < width && Date() < patience { usleep(500) }
            let count = await counter.bump()
            beat.value = true
            return count
        }
        for blocker in blockers { await blocker.value }
        #expect(await heartbeat.value == 1)
        #expect(started.value == width)
        #expect(sawBeat.value == width, "the heartbeat waited for the pool")
    }

    @Test func afterShutdownTheThreadEndsAndLaterWorkStillRuns() async throws {
        let executor = HeartbeatExecutor(name: "test-heartbeats")
        #expect(await Task(executorPreference: executor) { 1 }.value == 1)
        executor.shutdown()
        let deadline = Date().addingTimeInterval(10)
        while !executor.hasStopped && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(executor.hasStopped)
        // A task still holding the preference is not stranded: its jobs go to the pool.
        #expect(await Task(executorPreference: executor) { 2 }.value == 2)
    }
}
