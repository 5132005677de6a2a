import KubeModel
import Testing

@testable import APIServer

@Suite struct WatchHubTests {
    func event(_ rev: Int64, _ key: String = "/r/a", size: Int = 0) -> StoreEvent {
        StoreEvent(kind: .modified, key: key, revision: rev, object: [:], prevObject: nil, size: size)
    }

    func version(_ key: String, _ rev: Int64, prev: Int64?) -> StoreEvent {
        func object(_ r: Int64) -> JSONValue { ["metadata": ["resourceVersion": .string(String(r))], "data": ["v": .string("\(key)@\(r)")]] }
        return StoreEvent(kind: prev == nil ? .added : .modified, key: key, revision: rev, object: object(rev), prevObject: prev.map(object))
    }

    /// The ring keeps an update's previous object as the earlier event's object; every replayed
    /// event still carries the right one, also once the earlier event left the ring.
    @Test func replayedPreviousObjectsAreTheEarlierEventsObjects() async throws {
        let hub = WatchHub(capacity: 3, lastRevision: 0, compactedRevision: 0)
        hub.publish([version("/r/a", 1, prev: nil), version("/r/b", 2, prev: nil), version("/r/a", 3, prev: 1),
                     version("/r/a", 4, prev: 3), version("/r/b", 5, prev: 2)])
        // A previous object at a revision the ring does not hold is kept as given.
        hub.publish([version("/r/a", 6, prev: 99)])
        let sub = try hub.subscribe(prefix: "/r/", after: 3)
        var seen: [(Int64, JSONValue?)] = []
        for await item in sub.items {
            if case .event(let e) = item { seen.append((e.revision, e.prevObject)) }
            if seen.count == 3 { break }
        }
        sub.cancel()
        #expect(seen.map(\.0) == [4, 5, 6])
        #expect(seen[0].1?[path: ["data", "v"]] == "/r/a@3")
        #expect(seen[1].1?[path: ["data", "v"]] == "/r/b@2")
        #expect(seen[2].1?[path: ["data", "v"]] == "/r/a@99")
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
        #expect(slow.fellBehind())
        var count = 0
        for await _ in slow.items { count += 1 }
        #expect(count == 5)
    }

    @Test func aWatcherThatKeepsUpHasNotFallenBehind() async throws {
        let hub = WatchHub(capacity: 10, lastRevision: 0, compactedRevision: 0, perWatcherBuffer: 5)
        let sub = try hub.subscribe(prefix: "/", after: 0)
        hub.publish((1...3).map { event($0) })
        sub.cancel()
        #expect(!sub.fellBehind())
    }

    @Test func ringIsBoundedByBytesAsWellAsCount() throws {
        let hub = WatchHub(capacity: 100, maxBytes: 1000, lastRevision: 0, compactedRevision: 0)
        hub.publish((1...10).map { event($0, size: 300) })
        #expect(hub.usage.events == 3)
        #expect(hub.usage.bytes == 900)
        // Revisions 1-7 left the ring: resuming there would miss events.
        #expect(throws: StoreError.self) { _ = try hub.subscribe(prefix: "/", after: 6) }
        try hub.subscribe(prefix: "/", after: 7).cancel()
        // An event larger than the bound alone is still kept, as the only one.
        hub.publish([event(11, size: 5000)])
        #expect(hub.usage.events == 1)
        #expect(hub.usage.bytes == 5000)
    }

    @Test func watchersShareOneEncodingsBoxPerEventButTheRingKeepsNone() async throws {
        let hub = WatchHub(capacity: 10, lastRevision: 0, compactedRevision: 0)
        let a = try hub.subscribe(prefix: "/", after: 0)
        let b = try hub.subscribe(prefix: "/", after: 0)
        hub.publish([event(1)])
        var boxes: [WatchEventEncodings] = []
        for sub in [a, b] {
            for await item in sub.items {
                if case .event(let e) = item, let box = e.encodings { boxes.append(box) }
                break
            }
            sub.cancel()
        }
        #expect(boxes.count == 2)
        #expect(boxes[0] === boxes[1])
        let encoded = boxes[0].line("MODIFIED v1") { Array("first".utf8) }
        #expect(boxes[1].line("MODIFIED v1") { Array("second".utf8) } == encoded)
        // A replay from the ring starts with no encodings of its own.
        let late = try hub.subscribe(prefix: "/", after: 0)
        for await item in late.items {
            if case .event(let e) = item { #expect(e.encodings == nil) }
            break
        }
        late.cancel()
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
