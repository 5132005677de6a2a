import EtcdAPI
import Foundation
import GRPCCore
import KubeModel
import Logging
import Synchronization

/// Fills the watch cache from etcd: one watch on the whole prefix with `prev_kv` (so a
/// DELETED event carries the object and filtered watches can tell an object that left their
/// selection) and progress notifications (so bookmarks say how far etcd has sent). When the
/// stream breaks it resumes after the last revision it published, on the next endpoint if
/// the current one is unreachable; when etcd compacted past that revision the cache is reset
/// and its watchers told to list again. It also compacts etcd's history when asked to, the
/// way kube-apiserver does. Both loops run in one task owned here, ended by `stop()`.
final class EtcdWatchFeed: Sendable {
    let clients: EtcdClients
    let layout: EtcdKeyLayout
    let hub: WatchHub
    let compactionInterval: Duration?
    let metrics: StoreMetrics
    let logger: Logger
    /// The revision after which the next watch starts.
    private let published: Atomic<Int64>
    /// Where a progress request goes: the open watch stream's request writer.
    private let progressRequests: Mutex<AsyncStream<Void>.Continuation?> = Mutex(nil)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Pause before a broken watch is opened again.
    static let retryDelay: Duration = .milliseconds(500)

    init(clients: EtcdClients, layout: EtcdKeyLayout, hub: WatchHub, startAfter: Int64, compactionInterval: Duration?,
         metrics: StoreMetrics, logger: Logger) {
        self.clients = clients
        self.layout = layout
        self.hub = hub
        self.compactionInterval = compactionInterval
        self.metrics = metrics
        self.logger = logger
        published = Atomic(startAfter)
    }

    func start() {
        task.withLock { t in
            guard t == nil else { return }
            t = Task { [self] in
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.follow() }
                    if let interval = compactionInterval { group.addTask { await self.compactEvery(interval) } }
                }
            }
        }
    }

    func stop() {
        task.withLock { $0?.cancel(); $0 = nil }
        progressRequests.withLock { $0?.finish() }
    }

    func requestProgress() {
        progressRequests.withLock { _ = $0?.yield(()) }
    }

    // MARK: the watch

    private func follow() async {
        while !Task.isCancelled {
            let (index, client) = clients.active
            do {
                try await watchOnce(client)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if let compacted = Self.compacted(error) {
                    await recover(from: compacted)
                    continue
                }
                if EtcdClients.isUnreachable(error) { clients.failover(from: index) }
                logger.warning("etcd watch broke; resuming", metadata: [
                    "after": .stringConvertible(published.load(ordering: .relaxed)), "error": .string("\(error)"),
                ])
            }
            try? await Task.sleep(for: Self.retryDelay)
        }
    }

    /// etcd no longer has the events after the last published revision.
    private struct Compacted: Error { var revision: Int64 }

    /// The compaction a response handler threw, as it comes out of the call (possibly as the
    /// cause of an RPC error).
    private static func compacted(_ error: any Error) -> Compacted? {
        if let c = error as? Compacted { return c }
        if let rpc = error as? RPCError, let cause = rpc.cause { return compacted(cause) }
        return nil
    }

    private func watchOnce(_ client: GRPCClient<EtcdTransport>) async throws {
        let (progress, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        progressRequests.withLock { $0?.finish(); $0 = continuation }
        defer { continuation.finish() }
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = layout.etcdKey(EtcdKeyLayout.storeRoot + "/")
        create.rangeEnd = EtcdKeyLayout.rangeEnd(forPrefix: create.key)
        create.startRevision = published.load(ordering: .relaxed) + 1
        create.prevKv = true
        create.progressNotify = true
        let open = Etcdserverpb_WatchRequest.with { $0.createRequest = create }
        var options = CallOptions.defaults
        options.waitForReady = false
        try await Etcdserverpb_Watch.Client(wrapping: client).watch(options: options, requestProducer: { writer in
            try await writer.write(open)
            for await _ in progress {
                var request = Etcdserverpb_WatchRequest()
                request.progressRequest = Etcdserverpb_WatchProgressRequest()
                try await writer.write(request)
            }
        }, onResponse: { [self] response in
            defer { continuation.finish() }
            for try await message in response.messages { try handle(message) }
        })
    }

    private func handle(_ message: Etcdserverpb_WatchResponse) throws {
        if message.compactRevision > 0 { throw Compacted(revision: message.compactRevision) }
        if message.canceled { throw StoreError.io("etcd cancelled the watch: \(message.cancelReason)") }
        if message.created { return }
        guard !message.events.isEmpty else {
            // A progress notification: every event up to this revision has been sent.
            hub.advance(to: message.header.revision)
            published.store(max(published.load(ordering: .relaxed), message.header.revision), ordering: .relaxed)
            hub.broadcastProgress()
            return
        }
        let events = message.events.compactMap(storeEvent)
        hub.publish(events)
        if let last = message.events.last {
            published.store(max(published.load(ordering: .relaxed), last.kv.modRevision), ordering: .relaxed)
        }
    }

    /// The store's view of one etcd event; nil for a key outside the layout or a value that
    /// does not parse (logged: a foreign writer under the prefix).
    private func storeEvent(_ event: Mvccpb_Event) -> StoreEvent? {
        guard let key = layout.storeKey(event.kv.key) else { return nil }
        let revision = event.kv.modRevision
        do {
            let prev = event.hasPrevKv
                ? try EtcdStore.decodeValue(event.prevKv.value, key: key, revision: event.prevKv.modRevision) : nil
            switch event.type {
            case .delete:
                // The deleted object as last stored, at the deletion's revision.
                var object = prev ?? ["metadata": [:]]
                object[path: ["metadata", "resourceVersion"]] = .string(String(revision))
                return StoreEvent(kind: .deleted, key: key, revision: revision, object: object, prevObject: prev,
                                  size: event.prevKv.value.count)
            default:
                let object = try EtcdStore.decodeValue(event.kv.value, key: key, revision: revision)
                let created = event.kv.createRevision == revision
                return StoreEvent(kind: created ? .added : .modified, key: key, revision: revision, object: object,
                                  prevObject: created ? nil : prev, size: event.kv.value.count + event.prevKv.value.count)
            }
        } catch {
            logger.error("skipping an etcd value that does not parse", metadata: ["key": .string(key), "revision": .stringConvertible(revision)])
            return nil
        }
    }

    /// After a compaction took events the cache never saw: start over at etcd's current
    /// revision, cutting every watcher off so its client lists again.
    private func recover(from compacted: Compacted) async {
        do {
            var request = Etcdserverpb_RangeRequest()
            request.key = layout.etcdKey(EtcdKeyLayout.storeRoot + "/")
            request.countOnly = true
            let response = try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).range(request, options: EtcdClients.options) }
            let now = response.header.revision
            logger.warning("etcd compacted past the watch cache; watchers must list again", metadata: [
                "compacted": .stringConvertible(compacted.revision), "resumeAt": .stringConvertible(now),
            ])
            hub.reset(at: now)
            published.store(now, ordering: .relaxed)
        } catch {
            try? await Task.sleep(for: Self.retryDelay)
        }
    }

    // MARK: compaction

    /// Every `interval`, compacts to the revision etcd had one interval earlier, so a list
    /// or watch has at least that long to use a revision it was given.
    private func compactEvery(_ interval: Duration) async {
        var previous: Int64?
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            do {
                var request = Etcdserverpb_RangeRequest()
                request.key = layout.etcdKey(EtcdKeyLayout.storeRoot + "/")
                request.countOnly = true
                let now = try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).range(request, options: EtcdClients.options) }
                    .header.revision
                let target = previous
                previous = now
                if let target, target > 1 {
                    var compact = Etcdserverpb_CompactionRequest()
                    compact.revision = target
                    _ = try await clients.call { try await Etcdserverpb_KV.Client(wrapping: $0).compact(compact, options: EtcdClients.options) }
                    metrics.compactionSucceeded()
                }
            } catch let error as RPCError where error.message.contains("compacted") {
                // Another API server on the same etcd compacted first.
                metrics.compactionSucceeded()
            } catch {
                metrics.compactionFailed()
                logger.error("etcd compaction failed", metadata: ["error": .string("\(error)")])
            }
        }
    }
}
