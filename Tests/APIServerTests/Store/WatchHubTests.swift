import KubeModel
import Testing

@testable import APIServer

@Suite struct WatchHubTests {
    func event(_ rev: Int64, _ key: String = "/r/a") -> StoreEvent {
        StoreEvent(kind: .modified, key: key, revision: rev, object: [:], prevObject: nil)
    }

    @Test func replaysThenStreamsWithoutGapOrDuplicate() async throws {
        let hub = WatchHub(capacity: 100, lastRevision: 0, compactedRevision: 0)
        hub.publish((1...5).map { event($0) })
        let sub = try hub.subscribe(prefix: "/r/", after: 3)
        hub.publish([event(6), event(7, "/other/x"), event(8)])
        var revs: [Int64] = []
        for await item in sub.items {
            if case .event(let e) = item { revs.append(e.revision) }
            if revs.count == 3 { break }
        }
        sub.cancel()
        #expect(revs == [4, 5, 6])
        #expect(hub.watcherCount == 0)
    }

    @Test func aWatchFromARevisionNotYetPublishedGetsNoDuplicate() async throws {
        // A list can read revision 5 from the database before the writer publishes 5 to the
        // hub; a watch from 5 must then get 6 next, not 5 again.
        let hub = WatchHub(capacity: 100, lastRevision: 4, compactedRevision: 0)
        let sub = try hub.subscribe(prefix: "/r/", after: 5)
        hub.publish([event(5), event(6)])
        var revs: [Int64] = []
        for await item in sub.items {
            if case .event(let e) = item { revs.append(e.revision) }
            if revs.count == 1 { break }
        }
        sub.cancel()
        #expect(revs == [6])
    }

    @Test func ringEvictionMeansCompacted() throws {
        let hub = WatchHub(capacity: 3, lastRevision: 0, compactedRevision: 0)
        hub.publish((1...10).map { event($0) })
        #expect(throws: StoreError.self) { _ = try hub.subscribe(prefix: "/", after: 5) }
        let ok = try hub.subscribe(prefix: "/", after: 7)
        ok.cancel()
    }

    @Test func slowWatcherIsCutOffNotBlocking() async throws {
        let hub = WatchHub(capacity: 10, lastRevision: 0, compactedRevision: 0, perWatcherBuffer: 5)
        let slow = try hub.subscribe(prefix: "/", after: 0)
        hub.publish((1...20).map { event($0) })
        #expect(hub.watcherCount == 0)
        var count = 0
        for await _ in slow.items { count += 1 }
        #expect(count == 5)
    }

    @Test func progressMarksFollowQueuedEvents() async throws {
        let hub = WatchHub(capacity: 10, lastRevision: 0, compactedRevision: 0)
        let sub = try hub.subscribe(prefix: "/", after: 0)
        hub.publish([event(1)])
        hub.broadcastProgress()
        var items: [String] = []
        for await item in sub.items {
            switch item {
            case .event(let e): items.append("e\(e.revision)")
            case .progress(let r): items.append("p\(r)")
            }
            if items.count == 2 { break }
        }
        sub.cancel()
        #expect(items == ["e1", "p1"])
    }
}
