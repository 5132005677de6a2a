import KubeModel
import NIOConcurrencyHelpers

/// Keeps a local cache of one collection in step with the server and tells handlers what
/// changed (client-go's reflector + shared informer, for JSON objects).
///
/// `run()` lists, then watches from the list's resourceVersion with bookmarks on. A watch the
/// server ends (its timeout) is reopened at once from the last resourceVersion seen; a broken
/// one after an exponential backoff; a 410 Expired (that version was compacted) leads to a full
/// relist, whose differences with the cache reach the handlers as adds, updates and deletes.
/// With a resync period, every cached object is re-delivered as an update that often, so
/// level-triggered controllers retry what they might have missed.
public final class Informer<C: Clock>: Sendable where C.Duration == Duration {
    /// Tuning.
    public struct Options: Sendable {
        /// How often cached objects are re-delivered as updates; `nil` disables resync.
        public var resyncPeriod: Duration?
        /// First delay after a failed list or watch; doubles up to `maxBackoff`.
        public var initialBackoff: Duration
        /// Longest delay between retries.
        public var maxBackoff: Duration
        /// Watches ask the server to end them after this many seconds (randomized within the
        /// range), so that connections are recycled as in client-go.
        public var watchTimeoutSeconds: ClosedRange<Int>
        /// Objects per list page (0: no paging).
        public var pageSize: Int
        /// Called with a description of each failure that will be retried.
        public var onError: @Sendable (String) -> Void
        /// Applied to every listed or watched object before it is cached and handed to the
        /// handlers (client-go's transform), e.g. `Informer.droppingManagedFields`.
        public var transform: (@Sendable (JSONValue) -> JSONValue)?

        public init(resyncPeriod: Duration? = nil, initialBackoff: Duration = .milliseconds(100),
                    maxBackoff: Duration = .seconds(30), watchTimeoutSeconds: ClosedRange<Int> = 300...600,
                    pageSize: Int = 500, onError: @escaping @Sendable (String) -> Void = { _ in },
                    transform: (@Sendable (JSONValue) -> JSONValue)? = nil) {
            self.resyncPeriod = resyncPeriod
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.watchTimeoutSeconds = watchTimeoutSeconds
            self.pageSize = pageSize
            self.onError = onError
            self.transform = transform
        }
    }

    /// The local copy; filled by the first list, then kept current.
    public let cache = ObjectCache()
    /// Where objects come from.
    public let source: any ListWatchSource
    /// The options given at construction.
    public let options: Options
    private let clock: C
    private let handlers = NIOLockedValueBox<[InformerHandler]>([])
    private let synced = NIOLockedValueBox(false)
    private let lastResourceVersion = NIOLockedValueBox<String?>(nil)

    /// An informer over `source`, timing its backoff and resync on `clock`.
    public init(source: any ListWatchSource, clock: C, options: Options = Options()) {
        self.source = source
        self.clock = clock
        self.options = options
    }

    /// A transform for caches whose readers never look at `metadata.managedFields`, as
    /// kube-controller-manager and kube-scheduler trim their informers: the entries are often
    /// a third of an object, and an update that omits them keeps the stored ones.
    public static func droppingManagedFields(_ object: JSONValue) -> JSONValue {
        guard object[path: ["metadata", "managedFields"]] != nil else { return object }
        var trimmed = object
        trimmed[path: ["metadata", "managedFields"]] = nil
        return trimmed
    }

    /// Registers handlers; add them before `run()` so the first list reaches them.
    public func addHandler(_ handler: InformerHandler) {
        handlers.withLockedValue { $0.append(handler) }
    }

    /// Whether the first list has been stored in the cache (and delivered).
    public var hasSynced: Bool { synced.withLockedValue { $0 } }

    /// The resourceVersion the next watch would start from.
    public var resourceVersion: String? { lastResourceVersion.withLockedValue { $0 } }

    /// Waits until the first list is in the cache and every handler was told of it; answers
    /// `false` if cancelled first.
    public func waitForSync(pollInterval: Duration = .milliseconds(20)) async -> Bool {
        while !hasSynced {
            do { try await clock.sleep(for: pollInterval) } catch { return false }
        }
        return true
    }

    /// Lists and watches until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listAndWatch() }
            if let period = options.resyncPeriod, period > .zero {
                group.addTask { await self.resyncLoop(period) }
            }
            await group.waitForAll()
        }
    }

    // MARK: - list and watch

    private func listAndWatch() async {
        var needList = true
        var backoff = options.initialBackoff
        while !Task.isCancelled {
            do {
                if needList {
                    try await relist()
                    needList = false
                }
                let delivered = try await watchOnce()
                if delivered { backoff = options.initialBackoff }
            } catch let error as KubeAPIError where error.isGone {
                // Our resourceVersion was compacted away: only a fresh list can catch up.
                needList = true
            } catch {
                if Task.isCancelled { return }
                options.onError("\(source): \(error)")
                do { try await clock.sleep(for: backoff) } catch { return }
                backoff = min(backoff * 2, options.maxBackoff)
            }
        }
    }

    /// Lists every page, replaces the cache and tells handlers what differs.
    private func relist() async throws {
        var items: [JSONValue] = []
        var rv = ""
        var continueToken = ""
        repeat {
            var query: [String: String] = [:]
            if options.pageSize > 0 { query["limit"] = String(options.pageSize) }
            if !continueToken.isEmpty { query["continue"] = continueToken }
            let page = try await source.list(query: query)
            let listed = page["items"]?.arrayValue ?? []
            items += options.transform.map { listed.map($0) } ?? listed
            rv = page[path: ["metadata", "resourceVersion"]]?.stringValue ?? rv
            continueToken = page[path: ["metadata", "continue"]]?.stringValue ?? ""
        } while !continueToken.isEmpty

        let previous = cache.replace(with: items)
        lastResourceVersion.withLockedValue { $0 = rv }
        let hs = handlers.withLockedValue { $0 }
        var seen = Set<String>()
        for item in items {
            guard let key = ObjectCache.key(of: item) else { continue }
            seen.insert(key)
            if let old = previous[key] {
                for h in hs { await h.onUpdate(old, item) }
            } else {
                for h in hs { await h.onAdd(item) }
            }
        }
        for (key, old) in previous where !seen.contains(key) {
            for h in hs { await h.onDelete(old) }
        }
        // Only now: whoever waits for the sync acts on what the handlers were told (a kubelet
        // removes the containers of pods it has not been handed, as orphans).
        synced.withLockedValue { $0 = true }
    }

    /// One watch from the last resourceVersion until the server ends it. Answers whether any
    /// event arrived (which resets the backoff). Throws on a broken stream or an ERROR event.
    private func watchOnce() async throws -> Bool {
        let rv = resourceVersion ?? ""
        let timeout = options.watchTimeoutSeconds.randomElement() ?? 300
        let stream = try await source.watch(query: [
            "resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": String(timeout),
        ])
        var delivered = false
        for try await event in stream {
            delivered = true
            try await apply(event)
        }
        return delivered
    }

    private func apply(_ event: WatchEvent) async throws {
        if let error = event.apiError { throw error }
        let object = options.transform?(event.object) ?? event.object
        if let rv = object.resourceVersion, !rv.isEmpty {
            lastResourceVersion.withLockedValue { $0 = rv }
        }
        let hs = handlers.withLockedValue { $0 }
        switch event.type {
        case "ADDED", "MODIFIED":
            if let old = cache.put(object) {
                for h in hs { await h.onUpdate(old, object) }
            } else {
                for h in hs { await h.onAdd(object) }
            }
        case "DELETED":
            guard let key = ObjectCache.key(of: object) else { return }
            cache.remove(key)
            for h in hs { await h.onDelete(object) }
        default:
            break  // BOOKMARK only moves the resourceVersion on.
        }
    }

    // MARK: - resync

    private func resyncLoop(_ period: Duration) async {
        while !Task.isCancelled {
            do { try await clock.sleep(for: period) } catch { return }
            guard hasSynced else { continue }
            let hs = handlers.withLockedValue { $0 }
            for object in cache.list() {
                for h in hs { await h.onUpdate(object, object) }
            }
        }
    }
}

extension Informer where C == ContinuousClock {
    /// An informer on the real clock.
    public convenience init(source: any ListWatchSource, options: Options = Options()) {
        self.init(source: source, clock: ContinuousClock(), options: options)
    }
}
