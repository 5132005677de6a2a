import KubeModel

extension Registry {
    /// Which part of an object a write may change (`finalize`: `spec.finalizers` only).
    public enum UpdateTarget: Sendable { case main, status, finalize }

    /// A dry run stops the store's transaction here and carries the would-be result out.
    struct DryRunResult: Error { let object: JSONValue }

    /// PUT of an object or its status.
    public func update(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, body: JSONValue,
                       target: UpdateTarget, options: WriteOptions) async throws(APIError) -> WriteResult {
        try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: target, options: options) { _ in body }
    }

    /// Read-modify-write in one store transaction: `mutate` gets the current object as the
    /// client's version sees it and returns the requested new state (a PUT body or a patched
    /// copy). A resourceVersion in that state must match the stored one.
    func guaranteedUpdate(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, target: UpdateTarget,
                          options: WriteOptions, kind: String? = nil, recordsManagedFields: Bool = true,
                          mutate: @escaping @Sendable (JSONValue) throws -> JSONValue) async throws(APIError) -> WriteResult {
        let def = strategy.definition
        let warnings = Locked<[String]>([])
        let ticket = Locked<AllocationTicket?>(nil)
        let objectKey = key(def, namespace, name)
        let stored: StoredObject
        do {
            stored = try await store.update(key: objectKey) { [self] current in
                let presented = try self.present(current.object, strategy: strategy, version: version)
                let requested = try mutate(presented)
                if let rv = requested.resourceVersion, !rv.isEmpty, rv != current.object.resourceVersion {
                    throw APIError.conflict(def, name, APIError.modifiedConflict)
                }
                var (object, w) = try self.admitBody(requested, strategy: strategy, version: version, options: options, kind: kind)
                warnings.value = w
                if let n = object.name, !n.isEmpty, n != name {
                    throw APIError.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
                }
                object[path: ["metadata", "name"]] = .string(name)
                if def.namespaced {
                    if let ns = object.namespace, !ns.isEmpty, ns != namespace {
                        throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
                    }
                    object[path: ["metadata", "namespace"]] = namespace.map(JSONValue.string)
                }
                let old = current.object
                let errors: [FieldError]
                switch target {
                case .status:
                    var updated = old
                    updated["status"] = object["status"]
                    // A status apply computed the managed fields itself.
                    if !recordsManagedFields { updated[path: ["metadata", "managedFields"]] = object[path: ["metadata", "managedFields"]] }
                    object = updated
                    errors = strategy.validateStatusUpdate(object, old: old)
                case .finalize:
                    // The `finalize` subresource changes spec.finalizers and nothing else.
                    var updated = old
                    updated[path: ["spec", "finalizers"]] = object[path: ["spec", "finalizers"]]
                    object = updated
                    errors = strategy.validate(object)
                case .main:
                    ObjectMetaRules.prepareForUpdate(&object, old: old)
                    if def.subresources.contains(.status) { object["status"] = old["status"] }
                    strategy.applyDefaults(to: &object)
                    strategy.prepareForUpdate(&object, old: old)
                    ObjectMetaRules.updateGeneration(&object, old: old)
                    errors = ObjectMetaRules.validate(object, rule: strategy.nameRule, namespaced: def.namespaced)
                        + ObjectMetaRules.validateUpdate(object, old: old) + strategy.validateUpdate(object, old: old)
                }
                // Server-side apply sets managed fields itself; other writes record an Update.
                if recordsManagedFields {
                    self.recordUpdate(old: old, new: &object, strategy: strategy, version: version, target: target, options: options)
                }
                try self.runValidation(errors, def: def, name: name)
                if ObjectMetaRules.sameContent(object, old) { return nil }
                if options.dryRun { throw DryRunResult(object: object) }
                if case .main = target {
                    ticket.value = try strategy.allocate(&object, old: old, name: name, environment: self.environment)
                }
                return object
            }
        } catch let dry as DryRunResult {
            return WriteResult(object: try present(dry.object, strategy: strategy, version: version), code: 200, warnings: warnings.value)
        } catch {
            ticket.value?.rollback()
            throw Self.storeError(error, def: def, name: name)
        }
        ticket.value?.commit()
        var result = stored.object
        // Removing the last finalizer of an object marked for deletion completes the delete.
        if result[path: ["metadata", "deletionTimestamp"]] != nil, result.finalizers.isEmpty,
           (result[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty {
            if let deleted = try? await store.delete(key: objectKey, precondition: { cur in
                guard cur.object.finalizers.isEmpty else { throw StoreError.conflict(key: objectKey, message: "finalizers were added") }
            }) {
                result = deleted.object
                strategy.release(deleted.object, environment: environment)
            }
        }
        return WriteResult(object: try present(result, strategy: strategy, version: version), code: 200, warnings: warnings.value)
    }
}
