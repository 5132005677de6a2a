import KubeModel

extension Registry {
    /// GET of one object.
    public func get(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String) async throws(APIError) -> JSONValue {
        try await present(current(strategy, namespace: namespace, name: name).object, strategy: strategy, version: version)
    }

    /// GET of one object in the storage version, as the store serialized it: nothing parsed.
    public func getSerialized(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> SerializedObject {
        try await stored(strategy, namespace: namespace, name: name) { [store] in try await store.getSerialized(key: $0) }
    }

    /// The stored object in the storage version, nil when absent.
    public func find(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> JSONValue? {
        do throws(APIError) {
            return try await current(strategy, namespace: namespace, name: name).object
        } catch where error.code == 404 {
            return nil
        }
    }

    /// Every object of a resource in one namespace (or all), in the storage version.
    public func listAll(_ strategy: any ResourceStrategy, namespace: String?) async throws(APIError) -> [JSONValue] {
        try await list(strategy, version: strategy.definition.storageVersion, namespace: namespace, options: ListOptions()).items
    }

    /// The stored object, in the storage version, or 404.
    func current(_ strategy: any ResourceStrategy, namespace: String?, name: String) async throws(APIError) -> StoredObject {
        try await stored(strategy, namespace: namespace, name: name) { [store] in try await store.get(key: $0) }
    }

    /// What `read` finds at the object's key, or 404; store errors as API errors.
    private func stored<T>(_ strategy: any ResourceStrategy, namespace: String?, name: String,
                           _ read: (String) async throws -> T?) async throws(APIError) -> T {
        let def = strategy.definition
        do {
            guard let found = try await read(key(def, namespace, name)) else { throw APIError.notFound(def, name) }
            return found
        } catch {
            throw Self.storeError(error, def: def, name: name)
        }
    }
}
