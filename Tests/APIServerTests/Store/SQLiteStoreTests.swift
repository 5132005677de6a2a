import Foundation
import KubeModel
import KubeTesting
import Testing

@testable import APIServer

@Suite struct SQLiteStoreTests {
    /// Removed when the test ends, with every database it made.
    let scratch = ScratchDirectory(prefix: "caravel-store")

    func tempPath() -> String {
        scratch.subdirectory().appendingPathComponent("state.db").path
    }

    func cm(_ name: String, _ value: String = "1") -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"], "data": ["v": .string(value)]]
    }

    @Test func createStampsRevisionAndRefusesDuplicates() async throws {
        let store = try SQLiteStore(path: tempPath(), historySize: 1000)
        let a = try await store.create(key: "/r/cm/default/a", object: cm("a"))
        let b = try await store.create(key: "/r/cm/default/b", object: cm("b"))
        #expect(a.revision == 1 && b.revision == 2)
        #expect(a.object.resourceVersion == "1")
        await #expect(throws: StoreError.alreadyExists(key: "/r/cm/default/a")) {
            _ = try await store.create(key: "/r/cm/default/a", object: cm("a"))
        }
        #expect(try await store.currentRevision() == 2)
    }

    @Test func updateIsReadModifyWriteAndSkipsNoOps() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        _ = try await store.create(key: "/r/cm/default/a", object: cm("a"))
        let u = try await store.update(key: "/r/cm/default/a") { cur in
            var o = cur.object
            o[path: ["data", "v"]] = "2"
            return o
        }
        #expect(u.revision == 2 && u.object[path: ["data", "v"]] == "2")
        let same = try await store.update(key: "/r/cm/default/a") { _ in nil }
        #expect(same.revision == 2)
        await #expect(throws: StoreError.notFound(key: "/r/cm/default/missing")) {
            _ = try await store.update(key: "/r/cm/default/missing") { $0.object }
        }
    }

    @Test func listReadsPastRevisionsAndPages() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        for i in 0..<5 { _ = try await store.create(key: "/r/cm/default/c\(i)", object: cm("c\(i)")) }
        let page1 = try await store.list(prefix: "/r/cm/default/", startAfter: nil, limit: 2, atRevision: nil)
        #expect(page1.items.map(\.key) == ["/r/cm/default/c0", "/r/cm/default/c1"] && page1.hasMore && page1.revision == 5)
        // Changes after the first page do not show in later pages read at its revision.
        _ = try await store.delete(key: "/r/cm/default/c3") { _ in }
        _ = try await store.update(key: "/r/cm/default/c2") { cur in var o = cur.object; o[path: ["data", "v"]] = "new"; return o }
        let page2 = try await store.list(prefix: "/r/cm/default/", startAfter: "/r/cm/default/c1", limit: 10, atRevision: page1.revision)
        #expect(page2.items.map(\.key) == ["/r/cm/default/c2", "/r/cm/default/c3", "/r/cm/default/c4"])
        #expect(page2.items[0].object[path: ["data", "v"]] == "1")
        let now = try await store.list(prefix: "/r/cm/default/", startAfter: nil, limit: nil, atRevision: nil)
        #expect(now.items.count == 4 && now.items[2].object[path: ["data", "v"]] == "new")
    }

    @Test func aDatabaseIsOpenedByOneStoreAtATime() async throws {
        let path = tempPath()
        do {
            let first = try SQLiteStore(path: path, historySize: 1000)
            _ = try await first.create(key: "/r/cm/default/a", object: cm("a"))
            #expect(throws: StoreError.self) { _ = try SQLiteStore(path: path, historySize: 1000) }
            #expect(try await first.currentRevision() == 1)
        }
        // Closed, the database opens again.
        let reopened = try SQLiteStore(path: path, historySize: 1000)
        #expect(try await reopened.currentRevision() == 1)
    }

    @Test func survivesReopenWithHistory() async throws {
        let path = tempPath()
        do {
            let store = try SQLiteStore(path: path, historySize: 1000)
            for i in 0..<3 { _ = try await store.create(key: "/r/cm/default/c\(i)", object: cm("c\(i)")) }
        }
        let reopened = try SQLiteStore(path: path, historySize: 1000)
        #expect(try await reopened.currentRevision() == 3)
        #expect(try await reopened.get(key: "/r/cm/default/c1")?.revision == 2)
        // Watch history was recovered from disk: a watch from revision 1 replays 2 and 3.
        let sub = try reopened.watch(prefix: "/r/cm/", after: 1)
        var seen: [Int64] = []
        for await item in sub.items {
            if case .event(let e) = item { seen.append(e.revision) }
            if seen.count == 2 { break }
        }
        sub.cancel()
        #expect(seen == [2, 3])
        let next = try await reopened.create(key: "/r/cm/default/c9", object: cm("c9"))
        #expect(next.revision == 4)
    }

    @Test func compactionExpiresOldRevisions() async throws {
        let store = try SQLiteStore(path: nil, historySize: 10)
        for i in 0..<400 { _ = try await store.create(key: "/r/cm/default/c\(i)", object: cm("c\(i)")) }
        #expect(throws: StoreError.self) { _ = try store.watch(prefix: "/r/", after: 5) }
        await #expect(throws: StoreError.self) {
            _ = try await store.list(prefix: "/r/", startAfter: nil, limit: 1, atRevision: 5)
        }
        // The live objects are all still there.
        #expect(try await store.list(prefix: "/r/", startAfter: nil, limit: nil, atRevision: nil).items.count == 400)
    }

    @Test func listAtTheCompactedRevisionIsGoneNotShort() async throws {
        // k is written at 1 and 3, j at 2: compacting through 2 drops k's row 1, so a list
        // at revision 2 can no longer show k. It must answer "compacted", not omit k.
        let store = try SQLiteStore(path: nil, historySize: 1000)
        _ = try await store.create(key: "/r/cm/default/k", object: cm("k"))
        _ = try await store.create(key: "/r/cm/default/j", object: cm("j"))
        _ = try await store.update(key: "/r/cm/default/k") { cur in var o = cur.object; o[path: ["data", "v"]] = "2"; return o }
        try await store.compact(through: 2)
        await #expect(throws: StoreError.compacted(requested: 2, oldest: 3)) {
            _ = try await store.list(prefix: "/r/cm/", startAfter: nil, limit: nil, atRevision: 2)
        }
        let at3 = try await store.list(prefix: "/r/cm/", startAfter: nil, limit: nil, atRevision: 3)
        #expect(at3.items.map(\.key) == ["/r/cm/default/j", "/r/cm/default/k"])
    }

    @Test func concurrentCompactionNeverShortensAPagedList() async throws {
        // Pages read at a fixed revision while compaction runs: each page either has every
        // key it should or fails with "compacted"; never a silently shorter page.
        let store = try SQLiteStore(path: tempPath(), historySize: 1_000_000)
        for i in 0..<200 { _ = try await store.create(key: "/r/cm/default/c\(1000 + i)", object: cm("c\(i)")) }
        let first = try await store.list(prefix: "/r/cm/", startAfter: nil, limit: 10, atRevision: nil)
        for i in 0..<200 {
            _ = try await store.update(key: "/r/cm/default/c\(1000 + i)") { cur in var o = cur.object; o[path: ["data", "v"]] = "x"; return o }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.compact(through: first.revision + 150) }
            for _ in 0..<20 {
                group.addTask {
                    do {
                        let all = try await store.list(prefix: "/r/cm/", startAfter: nil, limit: nil, atRevision: first.revision)
                        #expect(all.items.count == 200)
                    } catch StoreError.compacted {}
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func compactionFailuresAreCountedAndReported() async throws {
        let metrics = StoreMetrics()
        let store = try SQLiteStore(path: tempPath(), historySize: 10, metrics: metrics)
        // A trigger that refuses every delete from the log makes each compaction fail.
        try await store.db.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse_delete BEFORE DELETE ON log BEGIN SELECT RAISE(FAIL, 'refused'); END")
        }
        // Superseded rows (one key rewritten) are what compaction deletes.
        _ = try await store.create(key: "/r/cm/default/c", object: cm("c"))
        for i in 0..<250 {
            _ = try await store.update(key: "/r/cm/default/c") { cur in var o = cur.object; o[path: ["data", "v"]] = .string("\(i)"); return o }
        }
        #expect(metrics.compactionFailures >= 1 && metrics.compactions == 0)
        #expect(metrics.render().contains("caravel_storage_compaction_failures_total \(metrics.compactionFailures)\n"))
        // Writes go on: a failed compaction loses nothing.
        let now = try await store.get(key: "/r/cm/default/c")
        #expect(now?.object[path: ["data", "v"]] == "249")
    }
}
