import Foundation
import KubeModel

extension Registry {
    /// POST to a collection.
    public func create(_ strategy: any ResourceStrategy, version: String, namespace: String?, body: JSONValue,
                       options: WriteOptions, recordsManagedFields: Bool = true) async throws(APIError) -> WriteResult {
        let def = strategy.definition
        var (object, warnings) = try await admitBody(body, strategy: strategy, version: version, options: options)
        if def.namespaced {
            guard let namespace else { throw APIError.badRequest("a namespace is required to create \(def.groupResource)") }
            if let ns = object.namespace, !ns.isEmpty, ns != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object[path: ["metadata", "namespace"]] = .string(namespace)
        } else {
            object[path: ["metadata", "namespace"]] = nil
        }
        // As kube-apiserver's storage: a non-zero number is refused with a plain (reason-less)
        // 500; anything else ("v1", "0", "-1") is cleared with the other system fields.
        if let rv = object.resourceVersion, let n = UInt64(rv), n != 0 {
            throw APIError(code: 500, reason: "", message: "resourceVersion should not be set on objects to be created")
        }
        if (object.name ?? "").isEmpty, let gen = object.metadata["generateName"]?.stringValue, !gen.isEmpty {
            object[path: ["metadata", "name"]] = .string(ObjectMetaRules.generatedName(gen))
        }
        let name = object.name ?? ""
        ObjectMetaRules.prepareForCreate(&object, now: clock(), tracksGeneration: strategy.tracksGeneration)
        if def.subresources.contains(.status) && !strategy.keepsStatusOnCreate { object["status"] = nil }
        strategy.applyDefaults(to: &object)
        strategy.prepareForCreate(&object)
        // Server-side apply sets managed fields itself; other creates record an Update.
        if recordsManagedFields { recordUpdate(old: nil, new: &object, strategy: strategy, version: version, target: .main, options: options) }
        var admission = AdmissionRequest(resource: def, namespace: namespace, name: name, object: object, user: options.user,
                                         dryRun: options.dryRun)
        try await self.admission.admit(&admission, registry: self)
        object = admission.object
        warnings += admission.warnings
        try runValidation(ObjectMetaRules.validate(object, rule: strategy.nameRule, namespaced: def.namespaced) + strategy.validate(object),
                          def: def, name: name)
        if def.namespaced, let namespace { try await checkNamespace(namespace, def: def, name: name) }
        admission.object = object
        let admittedWarnings = admission.warnings.count
        try await self.admission.validate(&admission, registry: self)
        warnings += admission.warnings.dropFirst(admittedWarnings)
        if options.dryRun {
            return WriteResult(object: try await present(object, strategy: strategy, version: version), code: 201, warnings: warnings)
        }
        // Reserved (in the store's allocation records) before the write, undone if the write fails.
        let ticket = try await strategy.allocate(&object, old: nil, name: name, environment: environment)
        let stored: StoredObject
        do {
            stored = try await store.create(key: key(def, namespace, name), object: object)
        } catch {
            await ticket?.rollback()
            throw Self.storeError(error, def: def, name: name)
        }
        await ticket?.commit()
        return WriteResult(object: try await present(stored.object, strategy: strategy, version: version), code: 201, warnings: warnings,
                           serialized: version == def.storageVersion ? stored.serialized : nil)
    }
}
