import KubeModel

extension Registry {
    /// PATCH of an object or its status: the patch is applied to the current object inside the
    /// store's transaction, then the result goes through the same path as an update.
    public func patch(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, patch: JSONValue,
                      type: PatchType, target: UpdateTarget, options: WriteOptions) async throws(APIError) -> WriteResult {
        if type == .apply {
            return try await apply(strategy, version: version, namespace: namespace, name: name, config: patch, target: target,
                                   force: false, manager: options.fieldManager ?? "", options: options)
        }
        let def = strategy.definition
        let typeName = def.schemaNames[version]
        return try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: target, options: options) { current in
            var patched = try Self.applyPatch(patch, type: type, to: current, typeName: typeName)
            // Only a patch that names a resourceVersion asks for the optimistic-concurrency check.
            if !Self.patchNamesResourceVersion(patch, type: type) {
                patched[path: ["metadata", "resourceVersion"]] = current.metadata["resourceVersion"]
            }
            return patched
        }
    }

    static func patchNamesResourceVersion(_ patch: JSONValue, type: PatchType) -> Bool {
        guard type == .json else { return patch[path: ["metadata", "resourceVersion"]] != nil }
        return (patch.arrayValue ?? []).contains { $0["path"]?.stringValue == "/metadata/resourceVersion" }
    }

    /// Applies a patch document to an object; failures are the client's (422 for a patch that
    /// does not apply, 400 for a malformed one).
    static func applyPatch(_ patch: JSONValue, type: PatchType, to object: JSONValue, typeName: String?) throws -> JSONValue {
        switch type {
        case .merge:
            guard patch.objectValue != nil else { throw APIError.badRequest("merge patch must be a JSON object") }
            return JSONMergePatch.apply(patch, to: object)
        case .json:
            guard patch.arrayValue != nil else { throw APIError.badRequest("json patch must be a JSON array of operations") }
            do {
                return try JSONPatch.apply(patch, to: object)
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
            }
        case .strategicMerge:
            guard patch.objectValue != nil else { throw APIError.badRequest("strategic merge patch must be a JSON object") }
            guard let typeName else { return JSONMergePatch.apply(patch, to: object) }
            do {
                return try StrategicMergePatch.apply(patch, to: object, typeName: typeName)
            } catch {
                throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
            }
        case .apply:
            throw APIError.unsupportedMediaType(type.rawValue)
        }
    }
}
