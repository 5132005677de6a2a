import Foundation
import KubeModel

extension Registry {
    /// A list response's parts, before it is rendered as a `<Kind>List` or a Table.
    public struct ListResult: Sendable {
        public var items: [JSONValue]
        public var resourceVersion: Int64
        public var continueToken: String?
    }

    /// A LIST's items as the store serialized them, in the storage version.
    public struct SerializedListResult: Sendable {
        public var items: [SerializedObject]
        public var resourceVersion: Int64
        public var continueToken: String?
    }

    /// LIST: selectors are applied while reading, and a page is filled up to `limit`
    /// matching items, as kube-apiserver does; later pages read at the first page's revision.
    public func list(_ strategy: any ResourceStrategy, version: String, namespace: String?, options: ListOptions) async throws(APIError) -> ListResult {
        let page = try await scan(strategy, namespace: namespace, options: options, key: \StoredObject.key) { [store] prefix, after, batch, revision in
            let page = try await store.list(prefix: prefix, startAfter: after, limit: batch, atRevision: revision)
            return (page.items, page.revision, page.hasMore)
        } keep: { item in
            options.matches(item.object, strategy: strategy)
        }
        // Converted once for the whole page: a conversion webhook gets one review, as kube-apiserver sends.
        return ListResult(items: try await presentAll(page.items.map(\.object), strategy: strategy, version: version),
                          resourceVersion: page.revision, continueToken: page.token)
    }

    /// LIST in the storage version without rendering the objects again: each item is the
    /// store's bytes. Only a selector makes an item be parsed, to be matched.
    public func listSerialized(_ strategy: any ResourceStrategy, namespace: String?, options: ListOptions) async throws(APIError) -> SerializedListResult {
        let page = try await scan(strategy, namespace: namespace, options: options, key: \SerializedObject.key) { [store] prefix, after, batch, revision in
            let page = try await store.listSerialized(prefix: prefix, startAfter: after, limit: batch, atRevision: revision)
            return (page.items, page.revision, page.hasMore)
        } keep: { item in
            guard options.hasSelectors else { return true }
            do {
                return options.matches(try JSONParser.parse(item.bytes), strategy: strategy)
            } catch {
                throw StoreError.io("corrupt value at \(item.key): \(error)")
            }
        }
        return SerializedListResult(items: page.items, resourceVersion: page.revision, continueToken: page.token)
    }

    /// Hands every stored object of a collection to `body` a page of `pageSize` at a time, all
    /// read at the first page's revision: a caller that visits every object holds one page,
    /// not the collection (30,000 pods parsed at once are some 300 MB). Throws when a page
    /// cannot be read; the caller has then seen only part of the collection.
    public func forEachStoredPage(_ strategy: any ResourceStrategy, namespace: String? = nil, pageSize: Int = 500,
                                  _ body: ([SerializedObject]) async -> Void) async throws(APIError) {
        var options = ListOptions()
        options.limit = pageSize
        while true {
            let page = try await listSerialized(strategy, namespace: namespace, options: options)
            await body(page.items)
            guard let next = page.continueToken else { return }
            options.continueToken = try ContinueToken.decode(next)
        }
    }

    /// Reads pages from the store from the list's start (or its continue token) and keeps the
    /// items `keep` accepts, until `limit` are kept or the keys run out.
    private func scan<Item: Sendable>(
        _ strategy: any ResourceStrategy, namespace: String?, options: ListOptions, key: KeyPath<Item, String>,
        read: (_ prefix: String, _ startAfter: String?, _ limit: Int?, _ revision: Int64?) async throws -> ([Item], Int64, Bool),
        keep: (Item) throws -> Bool
    ) async throws(APIError) -> (items: [Item], revision: Int64, token: String?) {
        let def = strategy.definition
        let prefix = ResourceCatalog.keyPrefix(def, namespace: namespace)
        if let rv = options.resourceVersion, !rv.isEmpty, UInt64(rv) == nil {
            throw APIError.badRequest("invalid resource version: resourceVersion: Invalid value: \"\(rv)\": strconv.ParseUint: parsing \"\(rv)\": invalid syntax")
        }
        if options.continueToken == nil, let rv = options.resourceVersion.flatMap({ Int64($0) }), rv > 0 {
            try await awaitRevision(rv, def: def)
        }
        var revision: Int64? = options.continueToken?.revision
        if revision == nil, options.resourceVersionMatch == "Exact", let rv = options.resourceVersion.flatMap({ Int64($0) }) {
            revision = rv
        }
        var startAfter = options.continueToken.map { prefix + $0.startAfter }
        var items: [Item] = []
        var token: String?
        let batch = options.hasSelectors ? max(options.limit ?? 0, 500) : options.limit
        do {
            scan: while true {
                let (page, pageRevision, hasMore) = try await read(prefix, startAfter, batch, revision)
                revision = pageRevision
                for (i, item) in page.enumerated() {
                    let itemKey = item[keyPath: key]
                    startAfter = itemKey
                    guard try keep(item) else { continue }
                    items.append(item)
                    if let limit = options.limit, items.count == limit {
                        if i < page.count - 1 || hasMore {
                            token = ContinueToken(revision: pageRevision, startAfter: String(itemKey.dropFirst(prefix.count))).encode()
                        }
                        break scan
                    }
                }
                if !hasMore { break }
            }
        } catch let e as APIError {
            throw e
        } catch StoreError.compacted {
            throw APIError.gone("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
        } catch {
            throw Self.storeError(error, def: def, name: "")
        }
        return (items, revision ?? 0, token)
    }

    /// Returns once the store has reached `revision`, or throws 504 `ResourceVersionTooLarge`.
    func awaitRevision(_ revision: Int64, def: ResourceDefinition) async throws(APIError) {
        let deadline = ContinuousClock.now + revisionWait
        do {
            while try await !store.hasReached(revision) {
                if ContinuousClock.now >= deadline || Task.isCancelled {
                    throw APIError.tooLargeResourceVersion(revision, current: try await store.currentRevision())
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        } catch let e as APIError {
            throw e
        } catch {
            throw Self.storeError(error, def: def, name: "")
        }
    }

    /// DELETE on a collection: deletes every matching object, one by one.
    public func deleteCollection(_ strategy: any ResourceStrategy, version: String, namespace: String?, listOptions: ListOptions,
                                 deleteOptions: DeleteOptions) async throws(APIError) -> ListResult {
        var all = listOptions
        all.limit = nil
        all.continueToken = nil
        let found = try await list(strategy, version: version, namespace: namespace, options: all)
        var deleted: [JSONValue] = []
        for item in found.items {
            guard let name = item.name else { continue }
            do {
                let r = try await delete(strategy, version: version, namespace: item.namespace, name: name, options: deleteOptions)
                deleted.append(r.object)
            } catch {
                if error.code != 404 { throw error }
            }
        }
        return ListResult(items: deleted, resourceVersion: (try? await store.currentRevision()) ?? found.resourceVersion, continueToken: nil)
    }
}
