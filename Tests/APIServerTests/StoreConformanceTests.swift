import Foundation
import KubeModel
import KubeTesting
import Testing

@testable import APIServer

/// What every `Store` must do, run against SQLite and a real etcd alike. Revisions are
/// compared with each other, never with fixed numbers: etcd starts at its own revision.
/// One case at a time: each etcd case starts a member of its own, and ten members starting
/// together next to the rest of the suite starved them past their 10 s call timeout.
@Suite(.serialized) struct StoreConformanceTests {
    static let ns = "/registry/core/configmaps/default/"

    func cm(_ name: String, _ value: String = "1") -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"], "data": ["v": .string(value)]]
    }

    func value(_ o: StoredObject?) -> String? { o?.object[path: ["data", "v"]]?.stringValue }

    struct Refused: Error, Equatable {}

    @Test(arguments: StoreKind.allCases) func createStampsTheRevisionAndRefusesDuplicates(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            let before = try await store.currentRevision()
            let a = try await store.create(key: Self.ns + "a", object: cm("a"))
            #expect(a.revision > before)
            #expect(a.object.resourceVersion == String(a.revision))
            #expect(try await store.currentRevision() == a.revision)
            let got = try await store.get(key: Self.ns + "a")
            #expect(got?.revision == a.revision && got?.object.resourceVersion == String(a.revision) && value(got) == "1")
            await #expect(throws: StoreError.alreadyExists(key: Self.ns + "a")) {
                _ = try await store.create(key: Self.ns + "a", object: cm("a", "2"))
            }
            #expect(value(try await store.get(key: Self.ns + "a")) == "1")
            #expect(try await store.get(key: Self.ns + "missing") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func updatesRetryTheirTransformOnConflicts(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            _ = try await store.create(key: Self.ns + "counter", object: cm("counter", "0"))
            // Concurrent read-modify-writes: none that succeeded may be lost. An update whose
            // outcome the store could not learn (etcd's answer lost on a starved machine) fails
            // with `io` and may or may not have counted.
            let (done, unknown) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var done = 0, unknown = 0
                        for _ in 0..<5 {
                            do {
                                _ = try await store.update(key: Self.ns + "counter") { cur in
                                    var o = cur.object
                                    let n = Int(o[path: ["data", "v"]]?.stringValue ?? "") ?? 0
                                    o[path: ["data", "v"]] = .string(String(n + 1))
                                    return o
                                }
                                done += 1
                            } catch StoreError.io {
                                unknown += 1
                            }
                        }
                        return (done, unknown)
                    }
                }
                return try await group.reduce(into: (0, 0)) { $0.0 += $1.0; $0.1 += $1.1 }
            }
            #expect(done + unknown == 20)
            let counted = try await store.get(key: Self.ns + "counter")
            let total = Int(value(counted) ?? "") ?? -1
            #expect(total >= done && total <= done + unknown, "\(total) counted, \(done) updates succeeded, \(unknown) unknown")
            // Unchanged: no write. Refused: the error, and no write.
            let same = try await store.update(key: Self.ns + "counter") { _ in nil }
            #expect(same.revision == counted?.revision)
            await #expect(throws: Refused()) {
                _ = try await store.update(key: Self.ns + "counter") { _ in throw Refused() }
            }
            #expect(try await store.get(key: Self.ns + "counter")?.revision == counted?.revision)
            await #expect(throws: StoreError.notFound(key: Self.ns + "missing")) {
                _ = try await store.update(key: Self.ns + "missing") { $0.object }
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func deleteHonoursItsPrecondition(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            let a = try await store.create(key: Self.ns + "a", object: cm("a"))
            await #expect(throws: Refused()) {
                _ = try await store.delete(key: Self.ns + "a") { _ in throw Refused() }
            }
            #expect(try await store.get(key: Self.ns + "a")?.revision == a.revision)
            let deleted = try await store.delete(key: Self.ns + "a") { cur in
                guard cur.revision == a.revision else { throw Refused() }
            }
            #expect(deleted.revision > a.revision && value(deleted) == "1")
            #expect(try await store.get(key: Self.ns + "a") == nil)
            await #expect(throws: StoreError.notFound(key: Self.ns + "a")) {
                _ = try await store.delete(key: Self.ns + "a") { _ in }
            }
            // A deleted key can be created again.
            let again = try await store.create(key: Self.ns + "a", object: cm("a", "2"))
            #expect(again.revision > deleted.revision)
        }
    }

    @Test(arguments: StoreKind.allCases) func replaceWritesOnlyOverTheRevisionRead(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            let a = try await store.create(key: Self.ns + "a", object: cm("a"))
            let sub = try store.watch(prefix: Self.ns, after: a.revision)
            defer { sub.cancel() }
            let b = try await store.replace(key: Self.ns + "a", current: a, with: cm("a", "2"))
            #expect(b.revision > a.revision && b.object.resourceVersion == String(b.revision) && value(b) == "2")
            let event = await events(sub, 1).first
            #expect(event?.kind == .modified && event?.revision == b.revision)
            #expect(event?.prevObject?[path: ["data", "v"]] == "1" && event?.object[path: ["data", "v"]] == "2")
            // Another write landed since `a` was read: refused, and nothing written.
            await #expect(throws: StoreError.revisionMoved(key: Self.ns + "a")) {
                _ = try await store.replace(key: Self.ns + "a", current: a, with: cm("a", "3"))
            }
            let now = try await store.get(key: Self.ns + "a")
            #expect(now?.revision == b.revision && value(now) == "2")
            _ = try await store.delete(key: Self.ns + "a") { _ in }
            await #expect(throws: StoreError.notFound(key: Self.ns + "a")) {
                _ = try await store.replace(key: Self.ns + "a", current: b, with: cm("a", "4"))
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func listPagesAreReadAtOneRevision(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            for i in 0..<5 { _ = try await store.create(key: Self.ns + "c\(i)", object: cm("c\(i)")) }
            _ = try await store.create(key: "/registry/core/configmaps/other/x", object: cm("x"))
            let page1 = try await store.list(prefix: Self.ns, startAfter: nil, limit: 2, atRevision: nil)
            #expect(page1.items.map(\.key) == [Self.ns + "c0", Self.ns + "c1"] && page1.hasMore)
            #expect(page1.revision == (try await store.currentRevision()))
            _ = try await store.delete(key: Self.ns + "c3") { _ in }
            _ = try await store.update(key: Self.ns + "c2") { cur in var o = cur.object; o[path: ["data", "v"]] = "new"; return o }
            _ = try await store.create(key: Self.ns + "c5", object: cm("c5"))
            let page2 = try await store.list(prefix: Self.ns, startAfter: Self.ns + "c1", limit: 10, atRevision: page1.revision)
            #expect(page2.items.map(\.key) == [Self.ns + "c2", Self.ns + "c3", Self.ns + "c4"] && !page2.hasMore)
            #expect(value(page2.items.first) == "1" && page2.revision == page1.revision)
            #expect(page2.items.allSatisfy { $0.object.resourceVersion == String($0.revision) })
            let now = try await store.list(prefix: Self.ns, startAfter: nil, limit: nil, atRevision: nil)
            #expect(now.items.map(\.key) == ["c0", "c1", "c2", "c4", "c5"].map { Self.ns + $0 })
            #expect(value(now.items[2]) == "new")
        }
    }

    @Test(arguments: StoreKind.allCases) func serializedListsHoldTheListsObjects(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            for i in 0..<4 { _ = try await store.create(key: Self.ns + "s\(i)", object: cm("s\(i)")) }
            _ = try await store.update(key: Self.ns + "s1") { cur in var o = cur.object; o[path: ["data", "v"]] = "new"; return o }
            _ = try await store.delete(key: Self.ns + "s2") { _ in }
            let parsed = try await store.list(prefix: Self.ns, startAfter: nil, limit: nil, atRevision: nil)
            let serialized = try await store.listSerialized(prefix: Self.ns, startAfter: nil, limit: nil, atRevision: nil)
            #expect(serialized.items.map(\.key) == [Self.ns + "s0", Self.ns + "s1", Self.ns + "s3"])
            #expect(serialized.items.map(\.revision) == parsed.items.map(\.revision) && serialized.revision == parsed.revision)
            // Each item is the object as a response writes it, resourceVersion included.
            for (bytes, object) in zip(serialized.items.map(\.bytes), parsed.items.map(\.object)) {
                #expect(Array(bytes) == JSONWriter.kubernetesBytes(object))
            }
            let page = try await store.listSerialized(prefix: Self.ns, startAfter: Self.ns + "s0", limit: 1, atRevision: parsed.revision)
            #expect(page.items.map(\.key) == [Self.ns + "s1"] && page.hasMore)
        }
    }

    @Test(arguments: StoreKind.allCases) func aSerializedGetHoldsTheObject(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            _ = try await store.create(key: Self.ns + "g0", object: cm("g0"))
            _ = try await store.update(key: Self.ns + "g0") { cur in var o = cur.object; o[path: ["data", "v"]] = "new"; return o }
            _ = try await store.create(key: Self.ns + "g1", object: cm("g1"))
            _ = try await store.delete(key: Self.ns + "g1") { _ in }
            let parsed = try #require(try await store.get(key: Self.ns + "g0"))
            let serialized = try #require(try await store.getSerialized(key: Self.ns + "g0"))
            #expect(serialized.key == parsed.key && serialized.revision == parsed.revision)
            #expect(Array(serialized.bytes) == JSONWriter.kubernetesBytes(parsed.object))
            // A deleted key and one never written are absent alike.
            #expect(try await store.getSerialized(key: Self.ns + "g1") == nil)
            #expect(try await store.getSerialized(key: Self.ns + "nothing") == nil)
        }
    }

    /// Pulls `count` events from a subscription (progress marks skipped).
    func events(_ sub: WatchSubscription, _ count: Int) async -> [StoreEvent] {
        var out: [StoreEvent] = []
        for await item in sub.items {
            if case .event(let e) = item { out.append(e) }
            if out.count == count { break }
        }
        return out
    }

    @Test(arguments: StoreKind.allCases) func watchReplaysFromARevision(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            let start = try await store.currentRevision()
            let a = try await store.create(key: Self.ns + "a", object: cm("a"))
            _ = try await store.create(key: "/registry/core/secrets/default/s", object: cm("s"))
            let m = try await store.update(key: Self.ns + "a") { cur in var o = cur.object; o[path: ["data", "v"]] = "2"; return o }
            let d = try await store.delete(key: Self.ns + "a") { _ in }
            let sub = try store.watch(prefix: Self.ns, after: start)
            defer { sub.cancel() }
            let got = await events(sub, 3)
            #expect(got.map(\.kind) == [.added, .modified, .deleted])
            #expect(got.map(\.revision) == [a.revision, m.revision, d.revision])
            #expect(got[1].prevObject?[path: ["data", "v"]] == "1" && got[1].object[path: ["data", "v"]] == "2")
            #expect(got[2].object.resourceVersion == String(d.revision) && got[2].prevObject?[path: ["data", "v"]] == "2")
            // From a later revision only what follows it.
            let late = try store.watch(prefix: Self.ns, after: m.revision)
            defer { late.cancel() }
            #expect(await events(late, 1).map(\.revision) == [d.revision])
        }
    }

    @Test(arguments: StoreKind.allCases) func watchFromNowSeesOnlyLaterWrites(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            _ = try await store.create(key: Self.ns + "old", object: cm("old"))
            let (sub, now) = store.watchFromNow(prefix: Self.ns)
            defer { sub.cancel() }
            let b = try await store.create(key: Self.ns + "b", object: cm("b"))
            var got: [StoreEvent] = []
            for await item in sub.items {
                guard case .event(let e) = item else { continue }
                got.append(e)
                if e.key == Self.ns + "b" { break }
            }
            #expect(got.allSatisfy { $0.revision > now })
            #expect(got.last?.revision == b.revision && got.last?.kind == .added)
        }
    }

    @Test(arguments: StoreKind.allCases) func progressMarksCoverEveryWrite(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            let (sub, now) = store.watchFromNow(prefix: Self.ns)
            defer { sub.cancel() }
            let written = try await store.create(key: "/registry/core/secrets/default/s", object: cm("s"))
            // Progress is asked for until a mark covers the write (outside the watch's prefix).
            let asker = Task {
                while !Task.isCancelled {
                    store.broadcastProgress()
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { asker.cancel() }
            var marks: [Int64] = []
            for await item in sub.items {
                if case .progress(let r) = item {
                    marks.append(r)
                    if r >= written.revision { break }
                }
            }
            #expect(marks.allSatisfy { $0 >= now })
            #expect(marks.last.map { $0 >= written.revision } == true)
        }
    }

    @Test(arguments: StoreKind.allCases) func compactedRevisionsAreGone(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind, historySize: 4) { sut in
            let store = sut.store
            let start = try await store.currentRevision()
            var revisions: [Int64] = []
            for i in 0..<10 { revisions.append(try await store.create(key: Self.ns + "c\(i)", object: cm("c\(i)")).revision) }
            // The watch history keeps four events: older starts are refused (410 to clients).
            let refused = await eventually {
                do {
                    let sub = try store.watch(prefix: Self.ns, after: start)
                    sub.cancel()
                    return false
                } catch {
                    guard case StoreError.compacted = error else { return false }
                    return true
                }
            }
            #expect(refused)
            let recent = try store.watch(prefix: Self.ns, after: revisions[7])
            defer { recent.cancel() }
            #expect(await events(recent, 2).map(\.revision) == Array(revisions[8...]))
            // Lists at compacted revisions are refused; the newest still reads.
            try await sut.compact(revisions[5])
            await #expect(throws: StoreError.self) {
                _ = try await store.list(prefix: Self.ns, startAfter: nil, limit: 2, atRevision: revisions[2])
            }
            do {
                _ = try await store.list(prefix: Self.ns, startAfter: nil, limit: 2, atRevision: revisions[2])
            } catch let error as StoreError {
                guard case .compacted = error else { Issue.record("expected compacted, got \(error)"); return }
            }
            let newest = try await store.list(prefix: Self.ns, startAfter: nil, limit: nil, atRevision: revisions[9])
            #expect(newest.items.count == 10)
        }
    }

    @Test(arguments: StoreKind.allCases) func compactionKeepsWhatLaterPagesOfAListRead(kind: StoreKind) async throws {
        try await StoreUnderTest.with(kind) { sut in
            let store = sut.store
            for i in 0..<3 { _ = try await store.create(key: Self.ns + "c\(i)", object: cm("c\(i)")) }
            let page1 = try await store.list(prefix: Self.ns, startAfter: nil, limit: 1, atRevision: nil)
            // Written after the first page, then history compacted up to just before that page's
            // revision: each key's value as of that revision is what the next page must read.
            _ = try await store.update(key: Self.ns + "c1") { cur in var o = cur.object; o[path: ["data", "v"]] = "new"; return o }
            _ = try await store.delete(key: Self.ns + "c2") { _ in }
            try await sut.compact(page1.revision - 1)
            let page2 = try await store.list(prefix: Self.ns, startAfter: Self.ns + "c0", limit: 10, atRevision: page1.revision)
            #expect(page2.items.map(\.key) == [Self.ns + "c1", Self.ns + "c2"])
            #expect(page2.items.map { value($0) } == ["1", "1"])
            let now = try await store.list(prefix: Self.ns, startAfter: nil, limit: nil, atRevision: nil)
            #expect(now.items.map(\.key) == [Self.ns + "c0", Self.ns + "c1"])
            #expect(value(now.items.last) == "new")
        }
    }
}
