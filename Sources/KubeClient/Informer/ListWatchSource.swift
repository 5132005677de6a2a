import KubeModel

/// Where an informer lists and watches: one collection of one resource. A protocol so that
/// informer tests can script lists and watch streams without a server.
public protocol ListWatchSource: Sendable {
    /// One page of the collection (`limit`, `continue`, selectors are in `query`).
    func list(query: [String: String]) async throws -> JSONValue
    /// A watch of the collection (`resourceVersion`, `allowWatchBookmarks`, `timeoutSeconds` in `query`).
    func watch(query: [String: String]) async throws -> AsyncThrowingStream<WatchEvent, Error>
}

/// A collection on a real API server, e.g. `ResourcePath(group: "apps", plural: "deployments")`
/// for Deployments in every namespace.
public struct RESTListWatch: ListWatchSource, CustomStringConvertible {
    /// The client requests go through.
    public let client: KubeRESTClient
    /// The collection path, without a query.
    public let path: String
    /// Added to every list and watch (e.g. `labelSelector`).
    public let baseQuery: [String: String]

    /// A source for the collection at `path`.
    public init(client: KubeRESTClient, path: String, baseQuery: [String: String] = [:]) {
        self.client = client
        self.path = path
        self.baseQuery = baseQuery
    }

    /// A source for a resource collection.
    public init(client: KubeRESTClient, resource: ResourcePath, baseQuery: [String: String] = [:]) {
        self.init(client: client, path: resource.path, baseQuery: baseQuery)
    }

    public var description: String { path }

    public func list(query: [String: String]) async throws -> JSONValue {
        try await client.list(path, query: baseQuery.merging(query) { _, new in new })
    }

    public func watch(query: [String: String]) async throws -> AsyncThrowingStream<WatchEvent, Error> {
        try await client.watch(path, query: baseQuery.merging(query) { _, new in new })
    }
}
