import KubeModel

extension Registry {
    /// One event of a watch stream, before rendering.
    public struct WatchOutput: Sendable {
        public var type: String
        public var object: JSONValue
        /// Encodings shared with the other watchers of the same event, under `encodingKey`.
        public var encodings: WatchEventEncodings? = nil
        public var encodingKey: String = ""
        /// `object` is the committed object unconverted, so the encodings' stored bytes are it.
        public var isStoredForm = false
    }

    /// Starts a WATCH. Initial state comes first as ADDED events when the client asked for it
    /// (resourceVersion unset or "0", or sendInitialEvents), then committed changes in order.
    /// An object that leaves the selection is sent as DELETED, one that enters it as ADDED.
    /// A resourceVersion older than the kept history yields one ERROR event (410 Expired).
    public func watch(_ strategy: any ResourceStrategy, version: String, namespace: String?, options: ListOptions) async throws(APIError)
        -> (AsyncStream<WatchOutput>, cancel: @Sendable () -> Void)
    {
        let def = strategy.definition
        let prefix = ResourceCatalog.keyPrefix(def, namespace: namespace)
        let rv = options.resourceVersion ?? ""
        let initial = options.sendInitialEvents ?? (rv == "" || rv == "0")
        try Self.validateWatchOptions(options)
        let subscription: WatchSubscription
        var initialItems: [JSONValue] = []
        var startRevision: Int64
        if initial || rv == "" || rv == "0" {
            let (sub, now) = store.watchFromNow(prefix: prefix)
            subscription = sub
            startRevision = now
            if initial {
                var all = options
                all.limit = nil
                all.continueToken = nil
                all.resourceVersionMatch = "Exact"
                all.resourceVersion = String(now)
                do {
                    initialItems = try await list(strategy, version: version, namespace: namespace, options: all).items
                } catch {
                    sub.cancel()
                    throw error
                }
            }
        } else {
            guard let after = Int64(rv) else { throw APIError.badRequest("invalid resourceVersion \"\(rv)\" for watch") }
            try await awaitRevision(after, def: def)
            startRevision = after
            do {
                subscription = try store.watch(prefix: prefix, after: after)
            } catch StoreError.compacted(let requested, let oldest) {
                let (out, continuation) = AsyncStream<WatchOutput>.makeStream()
                let status = APIError.gone("too old resource version: \(requested) (\(oldest - 1))").status
                continuation.yield(WatchOutput(type: "ERROR", object: status))
                continuation.finish()
                return (out, {})
            } catch {
                throw Self.storeError(error, def: def, name: "")
            }
        }
        let kind = def.kind
        let apiVersion = def.apiVersion(version)
        @Sendable func bookmark(_ revision: Int64, initialEnd: Bool) -> WatchOutput {
            var meta: JSONValue = ["resourceVersion": .string(String(revision))]
            if initialEnd { meta["annotations"] = ["k8s.io/initial-events-end": "true"] }
            return WatchOutput(type: "BOOKMARK", object: ["kind": .string(kind), "apiVersion": .string(apiVersion), "metadata": meta])
        }
        var head = initialItems.map { WatchOutput(type: "ADDED", object: $0) }
        if options.sendInitialEvents == true { head.append(bookmark(startRevision, initialEnd: true)) }
        // Pulled by the one consumer, so the only queue is the watch cache's bounded backlog
        // for this watcher: a client that stops reading is cut off there, and then gets 410.
        let source = WatchEventSource(head: head, subscription: subscription)
        let out = AsyncStream<WatchOutput>(unfolding: { [self, startRevision] in
            while true {
                switch await source.next() {
                case nil:
                    return nil
                case .fellBehind:
                    let status = APIError.gone("the watch fell too far behind; list again to resume").status
                    return WatchOutput(type: "ERROR", object: status)
                case .ready(let output):
                    return output
                case .item(.progress(let revision)):
                    if options.allowWatchBookmarks { return bookmark(max(revision, startRevision), initialEnd: false) }
                case .item(.event(let e)):
                    guard let output = self.filter(e, strategy: strategy, options: options) else { continue }
                    guard let object = try? await self.present(output.object, strategy: strategy, version: version) else { continue }
                    // Only an event sent as committed shares its encoding; one re-shaped for a
                    // selection change is this watcher's own.
                    let shared = e.kind == .modified && output.type == "DELETED" ? nil : e.encodings
                    return WatchOutput(type: output.type, object: object, encodings: shared, encodingKey: output.type + " " + apiVersion,
                                       isStoredForm: version == def.storageVersion)
                }
            }
        }, onCancel: { source.cancel() })
        return (out, { source.cancel() })
    }

    /// The option combinations kube-apiserver refuses for a watch (422 on ListOptions).
    static func validateWatchOptions(_ o: ListOptions) throws(APIError) {
        var errs: [FieldError] = []
        let match = o.resourceVersionMatch ?? ""
        if let send = o.sendInitialEvents {
            if match != "NotOlderThan" {
                errs.append(.forbidden("resourceVersionMatch", "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
            }
            if send && !o.allowWatchBookmarks {
                errs.append(.forbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"))
            }
        } else if !match.isEmpty {
            errs.append(.forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"))
        }
        if !errs.isEmpty { throw APIError.invalid(Registry.listOptionsDefinition, "", errs) }
    }

    static let listOptionsDefinition = ResourceDefinition(group: "meta.k8s.io", versions: ["v1"], kind: "ListOptions", plural: "listoptions",
                                                         namespaced: false, schemaNames: [:])

    /// Applies selectors to a store event, turning selection changes into ADDED/DELETED.
    func filter(_ e: StoreEvent, strategy: any ResourceStrategy, options: ListOptions) -> WatchOutput? {
        let now = options.matches(e.object, strategy: strategy)
        let before = e.prevObject.map { options.matches($0, strategy: strategy) } ?? false
        switch e.kind {
        case .added: return now ? WatchOutput(type: "ADDED", object: e.object) : nil
        case .deleted: return (before || now) ? WatchOutput(type: "DELETED", object: e.object) : nil
        case .modified:
            if now && before { return WatchOutput(type: "MODIFIED", object: e.object) }
            if now { return WatchOutput(type: "ADDED", object: e.object) }
            if before, var last = e.prevObject {
                // Leaving the selection: the last state the watcher could see, at this revision.
                last[path: ["metadata", "resourceVersion"]] = .string(String(e.revision))
                return WatchOutput(type: "DELETED", object: last)
            }
            return nil
        }
    }
}
