import KubeTesting
import KubeModel
import Testing
@testable import KubeClient

/// A source that answers lists and watches from a script, and records the queries it got.
final class ScriptedSource: ListWatchSource, @unchecked Sendable {
    enum Watch {
        case events([WatchEvent], endWith: (any Error)?)
        case fails(any Error)
    }

    // Touched only by the informer's single list-and-watch task, and by the test after it stops.
    private var lists: [JSONValue]
    private var watches: [Watch]
    private(set) var watchQueries: [[String: String]] = []
    private(set) var listCount = 0

    init(lists: [JSONValue], watches: [Watch]) {
        self.lists = lists
        self.watches = watches
    }

    func list(query: [String: String]) async throws -> JSONValue {
        listCount += 1
        return lists.isEmpty ? ["items": [], "metadata": ["resourceVersion": "0"]] : lists.removeFirst()
    }

    func watch(query: [String: String]) async throws -> AsyncThrowingStream<WatchEvent, Error> {
        watchQueries.append(query)
        // Past the script, a watch that stays open until cancelled.
        guard !watches.isEmpty else { return AsyncThrowingStream { _ in } }
        switch watches.removeFirst() {
        case .fails(let error):
            throw error
        case .events(let events, let end):
            return AsyncThrowingStream { c in
                for e in events { c.yield(e) }
                c.finish(throwing: end)
            }
        }
    }
}

actor Recorder {
    var events: [String] = []
    func record(_ s: String) { events.append(s) }
}

func object(_ name: String, rv: String) -> JSONValue {
    ["metadata": ["name": .string(name), "namespace": "ns", "resourceVersion": .string(rv)]]
}

func list(_ items: [JSONValue], rv: String) -> JSONValue {
    ["items": .array(items), "metadata": ["resourceVersion": .string(rv)]]
}

struct DroppedConnection: Error {}

@Suite struct InformerTests {
    func recordingHandler(_ r: Recorder) -> InformerHandler {
        InformerHandler(
            onAdd: { await r.record("add \($0.name ?? "") \($0.resourceVersion ?? "")") },
            onUpdate: { _, new in await r.record("update \(new.name ?? "") \(new.resourceVersion ?? "")") },
            onDelete: { await r.record("delete \($0.name ?? "")") })
    }

    @Test func reconnectsFromLastVersionAndRelistsOnExpired() async throws {
        let gone: JSONValue = ["kind": "Status", "code": 410, "reason": "Expired", "message": "too old"]
        let source = ScriptedSource(
            lists: [list([object("a", rv: "1"), object("b", rv: "2")], rv: "2"),
                    list([object("a", rv: "3"), object("c", rv: "6")], rv: "6")],
            watches: [
                .events([WatchEvent(type: "MODIFIED", object: object("a", rv: "3")),
                         WatchEvent(type: "BOOKMARK", object: ["metadata": ["resourceVersion": "5"]])],
                        endWith: DroppedConnection()),
                .events([WatchEvent(type: "ERROR", object: gone)], endWith: nil),
            ])
        let clock = ManualClock()
        let informer = Informer(source: source, clock: clock, options: .init(initialBackoff: .zero))
        let recorder = Recorder()
        informer.addHandler(recordingHandler(recorder))

        async let _ = informer.run()
        let settled = await eventually { await recorder.events.count == 6 && informer.resourceVersion == "6" }
        #expect(settled)
        #expect(await recorder.events == ["add a 1", "add b 2", "update a 3", "update a 3", "add c 6", "delete b"])
        #expect(Set(informer.cache.keys()) == ["ns/a", "ns/c"])
        #expect(informer.hasSynced)
        _ = await eventually { source.watchQueries.count == 3 }
        // Resumed after the drop from the bookmark's version; after the 410, from the new list.
        #expect(source.watchQueries.map { $0["resourceVersion"] } == ["2", "5", "6"])
        #expect(source.watchQueries.allSatisfy { $0["allowWatchBookmarks"] == "true" })
        #expect(source.listCount == 2)
        // Leaving the scope cancels `running`: the open watch and the loops must end for it to return.
    }

    @Test func syncedOnlyOnceTheFirstListWasHandedToEveryHandler() async throws {
        let source = ScriptedSource(lists: [list([object("a", rv: "1"), object("b", rv: "2")], rv: "2")], watches: [])
        let informer = Informer(source: source, clock: ManualClock())
        let syncedDuringDelivery = Locked<[Bool]>([])
        informer.addHandler(InformerHandler(
            onAdd: { _ in
                await Task.yield()
                syncedDuringDelivery.withLock { $0.append(informer.hasSynced) }
            },
            onUpdate: { _, _ in }, onDelete: { _ in }))
        async let _ = informer.run()
        let synced = await eventually { informer.hasSynced }
        #expect(synced)
        #expect(syncedDuringDelivery.value == [false, false])
    }

    @Test func resyncRedeliversCachedObjectsAsUpdates() async throws {
        let source = ScriptedSource(lists: [list([object("a", rv: "1")], rv: "1")], watches: [])
        let clock = ManualClock()
        let informer = Informer(source: source, clock: clock, options: .init(resyncPeriod: .seconds(30)))
        let recorder = Recorder()
        informer.addHandler(recordingHandler(recorder))
        async let _ = informer.run()
        _ = await eventually { await recorder.events == ["add a 1"] && clock.sleeperCount == 1 }
        clock.advance(by: .seconds(30))
        let resynced = await eventually { await recorder.events == ["add a 1", "update a 1"] }
        #expect(resynced)
    }

    @Test func aTransformShapesListedAndWatchedObjectsBeforeCacheAndHandlers() async throws {
        func managed(_ name: String, rv: String) -> JSONValue {
            var o = object(name, rv: rv)
            o[path: ["metadata", "managedFields"]] = [["manager": "kubectl", "operation": "Update"]]
            return o
        }
        let source = ScriptedSource(lists: [list([managed("a", rv: "1")], rv: "1")],
                                    watches: [.events([WatchEvent(type: "ADDED", object: managed("b", rv: "2"))], endWith: nil)])
        let informer = Informer(source: source, clock: ManualClock(),
                                options: .init(transform: Informer<ManualClock>.droppingManagedFields))
        let seen = Locked<[JSONValue]>([])
        informer.addHandler(InformerHandler(onAdd: { o in seen.withLock { $0.append(o) } }, onUpdate: { _, _ in }, onDelete: { _ in }))
        async let _ = informer.run()
        let both = await eventually { seen.value.count == 2 }
        #expect(both)
        #expect(seen.value.map(\.name) == ["a", "b"])
        #expect(seen.value.allSatisfy { $0[path: ["metadata", "managedFields"]] == nil })
        #expect(informer.cache.list().allSatisfy { $0[path: ["metadata", "managedFields"]] == nil })
        #expect(informer.cache.list().count == 2)
        #expect(Informer<ManualClock>.droppingManagedFields(object("c", rv: "3")) == object("c", rv: "3"))
    }
}
