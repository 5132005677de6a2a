import KubeTesting
import Foundation
import KubeClient
import Testing

/// A Lease held in memory: versions bump on every write and stale writes conflict, like the
/// API server's optimistic concurrency. Candidates listed in `failing` cannot reach it.
actor FakeLeaseStore {
    struct Conflict: Error {}
    struct Unreachable: Error {}
    private(set) var record: LeaderElectionRecord?
    private(set) var version = 0
    private var failing: Set<String> = []

    func setFailing(_ candidate: String, _ fail: Bool) {
        if fail { failing.insert(candidate) } else { failing.remove(candidate) }
    }

    func get(by candidate: String) throws -> (record: LeaderElectionRecord, version: String)? {
        guard !failing.contains(candidate) else { throw Unreachable() }
        return record.map { ($0, String(version)) }
    }

    func create(_ r: LeaderElectionRecord, by candidate: String) throws -> String {
        guard !failing.contains(candidate) else { throw Unreachable() }
        guard record == nil else { throw Conflict() }
        record = r
        version += 1
        return String(version)
    }

    func update(_ r: LeaderElectionRecord, version v: String, by candidate: String) throws -> String {
        guard !failing.contains(candidate) else { throw Unreachable() }
        guard record != nil, v == String(version) else { throw Conflict() }
        record = r
        version += 1
        return String(version)
    }
}

struct FakeLeaseLock: LeaseLock {
    let store: FakeLeaseStore
    let candidate: String
    func get() async throws -> (record: LeaderElectionRecord, version: String)? { try await store.get(by: candidate) }
    func create(_ record: LeaderElectionRecord) async throws -> String { try await store.create(record, by: candidate) }
    func update(_ record: LeaderElectionRecord, version: String) async throws -> String {
        try await store.update(record, version: version, by: candidate)
    }
}

/// Who is running leading work right now, and who ever did.
actor Leadership {
    private(set) var current: Set<String> = []
    private(set) var terms: [String] = []
    func start(_ id: String) { current.insert(id); terms.append(id) }
    func stop(_ id: String) { current.remove(id) }
}

@Suite struct LeaderElectorTests {
    let clock = ManualClock()
    let store = FakeLeaseStore()
    let leadership = Leadership()
    /// Runs every candidate, so the test can tell when all of them have settled.
    let executor = QuiescenceExecutor()

    /// Runs one candidate's election in a task; its leading work lasts until cancelled.
    func candidate(_ id: String) -> Task<Bool, Never> {
        let config = LeaderElectionConfiguration(identity: id)  // 15 s lease, 10 s renew deadline, 2 s retry
        let elector = LeaderElector(lock: FakeLeaseLock(store: store, candidate: id), configuration: config, clock: clock)
        let leadership = self.leadership
        return Task(executorPreference: executor) {
            await elector.run {
                await leadership.start(id)
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(60)) }
                await leadership.stop(id)
            }
        }
    }

    /// Advances the clock one step at a time. Before each step every candidate must have settled
    /// (its executor idle): a step taken while one is mid-attempt makes it sleep from a later
    /// instant, so its schedule drifts and, under load, its renew deadline can fall after the
    /// last step (the old flake). Idleness, not a pause or a sleeper count, is the signal.
    func advance(by total: Duration, step: Duration = .seconds(1)) async {
        var moved = Duration.zero
        while moved < total {
            _ = await eventually { executor.isIdle }
            clock.advance(by: step)
            moved += step
        }
        _ = await eventually { executor.isIdle }
    }

    @Test func acquiresAnAbsentLeaseAndRenewsIt() async throws {
        let a = candidate("a")
        #expect(await eventually { await leadership.current == ["a"] })
        let acquired = try #require(await store.record)
        #expect(acquired.holderIdentity == "a")
        #expect(acquired.leaseDurationSeconds == 15)
        #expect(acquired.leaseTransitions == 0)
        let version = await store.version
        await advance(by: .seconds(4))
        #expect(await eventually { await store.version > version })
        #expect(await store.record?.holderIdentity == "a")
        #expect(await store.record?.acquireTime == acquired.acquireTime)
        a.cancel()
        #expect(await a.value)
    }

    @Test func secondCandidateWaitsThenTakesOverAfterExpiry() async throws {
        let a = candidate("a")
        #expect(await eventually { await leadership.current == ["a"] })
        let b = candidate("b")
        // While a renews, b never leads, however long it waits.
        await advance(by: .seconds(40))
        #expect(await leadership.current == ["a"])
        #expect(await leadership.terms == ["a"])

        // a can no longer reach the lease: it stops leading after its renew deadline, and b
        // takes over once the lease it last saw change has expired by its own clock.
        await store.setFailing("a", true)
        await advance(by: .seconds(11))
        #expect(await eventually { await !leadership.current.contains("a") })
        #expect(await leadership.current.isEmpty, "b must not take over before the lease expires")
        await advance(by: .seconds(8))
        #expect(await eventually { await leadership.current == ["b"] })
        #expect(await store.record?.holderIdentity == "b")
        #expect(await store.record?.leaseTransitions == 1)
        #expect(await a.value)  // a's term ended on its own: the lease was lost
        b.cancel()
        _ = await b.value
    }

    @Test func releasesOnShutdownSoASuccessorTakesOverAtOnce() async throws {
        let a = candidate("a")
        #expect(await eventually { await leadership.current == ["a"] })
        let b = candidate("b")
        await advance(by: .seconds(4))
        a.cancel()
        #expect(await a.value)
        let released = try #require(await store.record)
        #expect(released.holderIdentity == "")
        #expect(released.leaseDurationSeconds == 1)
        #expect(await leadership.current.isEmpty)
        // One retry period later, well inside the old 15 s lease, b holds it.
        await advance(by: .seconds(2))
        #expect(await eventually { await leadership.current == ["b"] })
        #expect(await store.record?.leaseTransitions == 1)
        b.cancel()
        _ = await b.value
        #expect(await store.record?.holderIdentity == "")
    }

    @Test func recordRoundTripsThroughLeaseSpec() {
        let t = Date(timeIntervalSince1970: 1_700_000_000.25)
        let r = LeaderElectionRecord(holderIdentity: "h_1", leaseDurationSeconds: 15, acquireTime: t, renewTime: t, leaseTransitions: 3)
        let back = LeaderElectionRecord(leaseSpec: r.leaseSpec)
        #expect(back.holderIdentity == "h_1" && back.leaseDurationSeconds == 15 && back.leaseTransitions == 3)
        #expect(abs((back.renewTime ?? .distantPast).timeIntervalSince(t)) < 0.001)
    }
}
