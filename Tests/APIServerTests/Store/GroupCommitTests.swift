import Foundation
import Synchronization
import Testing
@testable import APIServer
import KubeModel

/// Group commit: every writer gets its own write's result, writers queued behind a commit
/// share the next one, and a write that fails takes no other write with it.
@Suite struct GroupCommitTests {
    /// A serial writer queue that records each batch it commits and holds the first one until
    /// released, so the writers that arrive meanwhile must queue.
    final class Committer: Sendable {
        let batches = Mutex<[[Int]]>([])
        let writer = DispatchQueue(label: "group-commit-test.writer")
        let gate = DispatchSemaphore(value: 0)
        let held = Mutex(false)

        func group(maxBatch: Int = 256) -> GroupCommit<Void, Int, String> {
            GroupCommit(maxBatch: maxBatch, run: { [writer] drain in writer.async { drain(()) } },
                        commit: { [self] _, batch in commit(batch) })
        }

        func commit(_ batch: [Int]) -> [Result<String, any Error>] {
            let first = batches.withLock { b in b.append(batch); return b.count == 1 }
            if first {
                held.withLock { $0 = true }
                gate.wait()
            }
            return batch.map { $0 < 0 ? .failure(StoreError.notFound(key: String($0))) : .success("w\($0)") }
        }

        func release() { gate.signal() }
    }

    /// Starts write 0 and holds its commit, then submits `writes` and waits until all of them
    /// are queued behind it; answers the first task and the others, in order.
    static func queueBehindAHeldCommit(_ group: GroupCommit<Void, Int, String>, _ committer: Committer,
                                       _ writes: [Int]) async throws -> (Task<String, any Error>, [Task<String, any Error>]) {
        let first = Task { try await group.submit(0) }
        while !committer.held.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        let later = writes.map { i in Task { try await group.submit(i) } }
        while group.queued < writes.count { try await Task.sleep(for: .milliseconds(1)) }
        return (first, later)
    }

    @Test func writersQueuedBehindACommitShareTheNext() async throws {
        let committer = Committer()
        let group = committer.group()
        let (first, later) = try await Self.queueBehindAHeldCommit(group, committer, Array(1...10))
        committer.release()
        #expect(try await first.value == "w0")
        for (i, t) in later.enumerated() { #expect(try await t.value == "w\(i + 1)") }
        // Everything queued behind the held commit goes in the next one.
        let batches = committer.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == [0])
        #expect(batches.last?.sorted() == Array(1...10))
    }

    @Test func aFailedWriteFailsAlone() async throws {
        let committer = Committer()
        let group = committer.group()
        let (first, later) = try await Self.queueBehindAHeldCommit(group, committer, [1, -1])
        committer.release()
        _ = try await first.value
        #expect(try await later[0].value == "w1")
        await #expect(throws: StoreError.self) { try await later[1].value }
    }

    @Test func batchesAreCapped() async throws {
        let committer = Committer()
        let group = committer.group(maxBatch: 3)
        let (first, later) = try await Self.queueBehindAHeldCommit(group, committer, Array(1...7))
        committer.release()
        _ = try await first.value
        for t in later { _ = try await t.value }
        let batches = committer.batches.withLock { $0 }
        #expect(batches.allSatisfy { $0.count <= 3 })
        #expect(batches.flatMap { $0 }.sorted() == Array(0...7))
    }

    /// Through the store: concurrent creates and updates of the same keys commit as if one at
    /// a time (one create per key wins, every increment counted), revisions are consecutive
    /// and every event is published once, in revision order.
    @Test func concurrentWritesOnTheStoreStayConsistent() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("group-commit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("state.db").path, historySize: 10_000)
        let (sub, start) = store.watchFromNow(prefix: "/registry/")
        let created = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<64 {
                // Four writers race for each key.
                group.addTask { (try? await store.create(key: "/registry/k/\(i % 16)", object: ["n": 0])) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(created == 16)
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<160 {
                group.addTask {
                    _ = try? await store.update(key: "/registry/k/\(i % 16)") { current in
                        var o = current.object
                        o["n"] = .int((current.object["n"]?.intValue ?? 0) + 1)
                        return o
                    }
                }
            }
        }
        for k in 0..<16 {
            #expect(try await store.get(key: "/registry/k/\(k)")?.object["n"]?.intValue == 10)
        }
        let end = try await store.currentRevision()
        #expect(end == start + 16 + 160)
        var revisions: [Int64] = []
        for await item in sub.items {
            if case .event(let e) = item { revisions.append(e.revision) }
            if revisions.count == 176 { break }
        }
        sub.cancel()
        #expect(revisions == Array((start + 1)...end))
    }
}
