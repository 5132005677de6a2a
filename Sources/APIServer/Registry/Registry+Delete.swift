import Foundation
import KubeModel

extension Registry {
    /// DELETE of one object. Objects with finalizers (or a foreground/orphan propagation, or a
    /// grace period from the strategy's `deletionGracePeriod`) are only marked with
    /// deletionTimestamp; whoever owns the finalizer finishes the job.
    public func delete(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String,
                       options: DeleteOptions) async throws(APIError) -> WriteResult {
        let def = strategy.definition
        let objectKey = key(def, namespace, name)
        let current = try await self.current(strategy, namespace: namespace, name: name)
        try checkPreconditions(current.object, options: options, def: def, name: name)
        var request = AdmissionRequest(resource: def, namespace: namespace, name: name, object: current.object, user: options.user,
                                       dryRun: options.dryRun, operation: .delete, oldObject: current.object)
        try await admission.validate(&request, registry: self)
        let warnings = request.warnings
        var finalizers = current.object.finalizers
        switch options.propagation {
        case .foreground?: if !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
        case .orphan?: if !finalizers.contains("orphan") { finalizers.append("orphan") }
        default: break
        }
        let period = strategy.deletionGracePeriod(of: current.object, options: options)
        let grace = period ?? 0
        let graceful = !finalizers.isEmpty || period != nil
        if options.dryRun {
            return WriteResult(object: try await present(current.object, strategy: strategy, version: version), code: 200, warnings: warnings)
        }
        if !graceful {
            do {
                let deleted = try await store.delete(key: objectKey) { [def] cur in
                    try Self.checkPreconditionsThrowing(cur.object, options: options, def: def, name: name)
                    if !cur.object.finalizers.isEmpty { throw StoreError.conflict(key: objectKey, message: "finalizers were added concurrently") }
                }
                await strategy.release(deleted.object, environment: environment)
                return WriteResult(object: try await present(deleted.object, strategy: strategy, version: version), code: 200, warnings: warnings)
            } catch {
                throw Self.storeError(error, def: def, name: name)
            }
        }
        let now = clock()
        let added = finalizers
        do {
            let updated = try await store.update(key: objectKey) { [def, strategy] cur in
                try Self.checkPreconditionsThrowing(cur.object, options: options, def: def, name: name)
                var o = cur.object
                var fins = o.finalizers
                for f in added where !fins.contains(f) { fins.append(f) }
                if !fins.isEmpty { o[path: ["metadata", "finalizers"]] = .array(fins.map(JSONValue.string)) }
                if o[path: ["metadata", "deletionTimestamp"]] == nil {
                    o[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.format(now.addingTimeInterval(Double(grace))))
                    o[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(grace)
                    if let g = o.metadata["generation"]?.intValue { o[path: ["metadata", "generation"]] = .int(g + 1) }
                } else if let old = o.metadata["deletionGracePeriodSeconds"]?.intValue, grace < old {
                    // A shorter grace period on a second delete moves the deadline forward.
                    o[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.format(now.addingTimeInterval(Double(grace))))
                    o[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(grace)
                }
                strategy.prepareForDeletion(&o)
                return ObjectMetaRules.sameContent(o, cur.object) ? nil : o
            }
            return WriteResult(object: try await present(updated.object, strategy: strategy, version: version), code: 200, warnings: warnings)
        } catch {
            throw Self.storeError(error, def: def, name: name)
        }
    }

    func checkPreconditions(_ object: JSONValue, options: DeleteOptions, def: ResourceDefinition, name: String) throws(APIError) {
        do { try Self.checkPreconditionsThrowing(object, options: options, def: def, name: name) } catch {
            throw Self.storeError(error, def: def, name: name)
        }
    }

    static func checkPreconditionsThrowing(_ object: JSONValue, options: DeleteOptions, def: ResourceDefinition, name: String) throws {
        if let uid = options.preconditionUID, uid != object.uid {
            throw APIError.conflict(def, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid ?? "")")
        }
        if let rv = options.preconditionResourceVersion, rv != object.resourceVersion {
            throw APIError.conflict(def, name, "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.resourceVersion ?? "")")
        }
    }
}
