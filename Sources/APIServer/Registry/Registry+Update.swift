import KubeModel

extension Registry {
    /// Which part of an object a write may change (`finalize`: `spec.finalizers` only).
    public enum UpdateTarget: Sendable {
        case main, status, finalize

        /// The subresource admission sees: nil for the object itself.
        var subresource: String? {
            switch self {
            case .main: nil
            case .status: "status"
            case .finalize: "finalize"
            }
        }
    }

    /// A dry run stops the store's transaction here and carries the would-be result out.
    struct DryRunResult: Error { let object: JSONValue }

    /// Times an update reads again when the object keeps changing under it before answering
    /// 409. Every lost race means another write landed, so writers make progress; Kubernetes'
    /// GuaranteedUpdate retries without bound, this bound only guards against a livelock.
    static let updateAttempts = 1000

    /// PUT of an object or its status.
    public func update(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, body: JSONValue,
                       target: UpdateTarget, options: WriteOptions) async throws(APIError) -> WriteResult {
        try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: target, options: options) { _ in body }
    }

    /// Read-modify-write: `mutate` gets the current object as the client's version sees it and
    /// returns the requested new state (a PUT body or a patched copy). A resourceVersion in that
    /// state must match the stored one. The new state goes through defaulting, admission (an
    /// UPDATE, which may read the store) and validation, then is written only if the object is
    /// still the one read; otherwise it all runs again on the newer object, as Kubernetes'
    /// GuaranteedUpdate retries.
    func guaranteedUpdate(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, target: UpdateTarget,
                          options: WriteOptions, kind: String? = nil, recordsManagedFields: Bool = true,
                          mutate: @escaping @Sendable (JSONValue) throws -> JSONValue) async throws(APIError) -> WriteResult {
        let def = strategy.definition
        let objectKey = key(def, namespace, name)
        for _ in 0..<Self.updateAttempts {
            let current = try await self.current(strategy, namespace: namespace, name: name)
            var (object, warnings) = try await prepareUpdate(strategy, version: version, namespace: namespace, name: name, target: target,
                                                       options: options, kind: kind, recordsManagedFields: recordsManagedFields,
                                                       current: current.object, mutate: mutate)
            let old = current.object
            var admission = AdmissionRequest(resource: def, namespace: namespace, name: name, object: object, user: options.user,
                                             dryRun: options.dryRun, operation: .update, oldObject: old, subresource: target.subresource)
            try await self.admission.admit(&admission, registry: self)
            object = admission.object
            warnings += admission.warnings
            let errors: [FieldError]
            switch target {
            case .status: errors = strategy.validateStatusUpdate(object, old: old)
            case .finalize: errors = strategy.validate(object)
            case .main:
                errors = ObjectMetaRules.validate(object, rule: strategy.nameRule, namespaced: def.namespaced)
                    + ObjectMetaRules.validateUpdate(object, old: old) + strategy.validateUpdate(object, old: old)
            }
            try runValidation(errors, def: def, name: name)
            if ObjectMetaRules.sameContent(object, old) {
                return WriteResult(object: try await present(await finishDeletion(old, strategy: strategy, key: objectKey), strategy: strategy,
                                                       version: version),
                                   code: 200, warnings: warnings)
            }
            admission.object = object
            let admittedWarnings = admission.warnings.count
            try await self.admission.validate(&admission, registry: self)
            warnings += admission.warnings.dropFirst(admittedWarnings)
            if options.dryRun {
                return WriteResult(object: try await present(object, strategy: strategy, version: version), code: 200, warnings: warnings)
            }
            // Reserved before the write against the revision read (the write refuses any
            // other), so the reservation may wait on the store's allocation records.
            var ticket: AllocationTicket?
            if case .main = target { ticket = try await strategy.allocate(&object, old: old, name: name, environment: environment) }
            let stored: StoredObject
            do {
                stored = try await store.replace(key: objectKey, current: current, with: object)
            } catch StoreError.conflict {
                // Another write landed since the read: decide again on the newer object.
                await ticket?.rollback()
                await Task.yield()
                continue
            } catch {
                await ticket?.rollback()
                throw Self.storeError(error, def: def, name: name)
            }
            await ticket?.commit()
            let finished = await finishDeletion(stored.object, strategy: strategy, key: objectKey)
            // The stored bytes answer unless the write completed a deletion or the client's
            // version differs from the stored one.
            let asStored = version == def.storageVersion && finished.resourceVersion == stored.object.resourceVersion
            return WriteResult(object: try await present(finished, strategy: strategy, version: version), code: 200, warnings: warnings,
                               serialized: asStored ? stored.serialized : nil)
        }
        throw APIError.conflict(def, name, APIError.modifiedConflict)
    }

    /// The requested new state of `current` with the server's rules applied: apiVersion and
    /// kind checked, name and namespace from the URL, only the target's fields taken,
    /// defaults and server-owned fields set, managed fields recorded. Validation comes after
    /// admission.
    private func prepareUpdate(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String,
                               target: UpdateTarget, options: WriteOptions, kind: String?, recordsManagedFields: Bool,
                               current old: JSONValue, mutate: (JSONValue) throws -> JSONValue) async throws(APIError) -> (JSONValue, [String]) {
        let def = strategy.definition
        let requested: JSONValue
        let presented = try await present(old, strategy: strategy, version: version)
        do {
            requested = try mutate(presented)
        } catch {
            throw Self.storeError(error, def: def, name: name)
        }
        if let rv = requested.resourceVersion, !rv.isEmpty, rv != old.resourceVersion {
            throw APIError.conflict(def, name, APIError.modifiedConflict)
        }
        var (object, warnings) = try await admitBody(requested, strategy: strategy, version: version, options: options, kind: kind)
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
        switch target {
        case .status:
            var updated = old
            updated["status"] = object["status"]
            // A status apply computed the managed fields itself.
            if !recordsManagedFields { updated[path: ["metadata", "managedFields"]] = object[path: ["metadata", "managedFields"]] }
            object = updated
        case .finalize:
            // The `finalize` subresource changes spec.finalizers and nothing else.
            var updated = old
            updated[path: ["spec", "finalizers"]] = object[path: ["spec", "finalizers"]]
            object = updated
        case .main:
            ObjectMetaRules.prepareForUpdate(&object, old: old)
            if def.subresources.contains(.status) { object["status"] = old["status"] }
            strategy.applyDefaults(to: &object)
            strategy.prepareForUpdate(&object, old: old)
            ObjectMetaRules.updateGeneration(&object, old: old)
        }
        // Server-side apply sets managed fields itself; other writes record an Update.
        if recordsManagedFields { recordUpdate(old: old, new: &object, strategy: strategy, version: version, target: target, options: options) }
        return (object, warnings)
    }

    /// Removing the last finalizer of an object marked for deletion completes the delete.
    private func finishDeletion(_ object: JSONValue, strategy: any ResourceStrategy, key objectKey: String) async -> JSONValue {
        guard object[path: ["metadata", "deletionTimestamp"]] != nil, object.finalizers.isEmpty,
              (object[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty else { return object }
        guard let deleted = try? await store.delete(key: objectKey, precondition: { cur in
            guard cur.object.finalizers.isEmpty else { throw StoreError.conflict(key: objectKey, message: "finalizers were added") }
        }) else { return object }
        await strategy.release(deleted.object, environment: environment)
        return deleted.object
    }
}
