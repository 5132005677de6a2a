import KubeModel

/// The object verbs a controller needs (get, list, create, update, patch, delete on REST
/// paths): what `KubeRESTClient` serves over HTTP and a test's recording fake serves from
/// memory, so reconcilers can be exercised without a server. Errors are `KubeAPIError`s.
public protocol ResourceClient: Sendable {
    /// GET one object (or any JSON endpoint, e.g. a discovery document).
    func get(_ path: String, query: [String: String]) async throws -> JSONValue
    /// GET a collection: the `…List` object.
    func list(_ path: String, query: [String: String]) async throws -> JSONValue
    /// POST `body` to a collection path; answers the created object.
    func create(_ path: String, _ body: JSONValue, query: [String: String]) async throws -> JSONValue
    /// PUT `body` to an object path; a stale `resourceVersion` is a 409 Conflict.
    func update(_ path: String, _ body: JSONValue, query: [String: String]) async throws -> JSONValue
    /// PATCH an object with the semantics of `type`.
    func patch(_ path: String, _ body: JSONValue, type: PatchType, query: [String: String]) async throws -> JSONValue
    /// DELETE an object, optionally with `DeleteOptions`.
    @discardableResult
    func delete(_ path: String, options: JSONValue?, query: [String: String]) async throws -> JSONValue
}

extension ResourceClient {
    /// GET one object.
    public func get(_ path: String) async throws -> JSONValue { try await get(path, query: [:]) }
    /// GET a collection.
    public func list(_ path: String) async throws -> JSONValue { try await list(path, query: [:]) }
    /// POST to a collection path.
    public func create(_ path: String, _ body: JSONValue) async throws -> JSONValue { try await create(path, body, query: [:]) }
    /// PUT an object.
    public func update(_ path: String, _ body: JSONValue) async throws -> JSONValue { try await update(path, body, query: [:]) }
    /// PATCH an object (a JSON merge patch unless `type` says otherwise).
    public func patch(_ path: String, _ body: JSONValue, type: PatchType = .merge) async throws -> JSONValue {
        try await patch(path, body, type: type, query: [:])
    }
    /// DELETE an object.
    @discardableResult
    public func delete(_ path: String, options: JSONValue? = nil) async throws -> JSONValue {
        try await delete(path, options: options, query: [:])
    }
}

extension KubeRESTClient: ResourceClient {}
