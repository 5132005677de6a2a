import Foundation
import KubeModel

extension Registry {
    /// Server-side apply (`PATCH` with `application/apply-patch+yaml`): merges the configuration
    /// into the live object inside the store transaction, drops fields `manager` applied before
    /// and no longer specifies, and refuses (409) to change fields other managers own unless
    /// `force`. A missing object is created.
    public func apply(_ strategy: any ResourceStrategy, version: String, namespace: String?, name: String, config: JSONValue,
                      target: UpdateTarget, force: Bool, manager: String, options: WriteOptions) async throws(APIError) -> WriteResult {
        guard !manager.isEmpty else { throw APIError.badRequest("fieldManager is required for apply requests") }
        guard manager.utf8.count <= 128 else { throw APIError.badRequest("fieldManager: Too long: may not be more than 128 bytes") }
        guard config.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON or YAML object") }
        if let mf = config[path: ["metadata", "managedFields"]], !mf.isNull {
            throw APIError.badRequest("metadata.managedFields must be nil")
        }
        if let n = config.name, !n.isEmpty, n != name {
            throw APIError.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
        }
        let def = strategy.definition
        let context = ApplyContext(manager: manager, subresource: target == .status ? "status" : nil,
                                   apiVersion: def.apiVersion(version), typeName: def.schemaNames[version],
                                   statusRule: Self.statusRule(def, target), time: Timestamp.format(clock()))
        let fields = context.owned(FieldSets.of(config, typeName: context.typeName))
        // An apply racing a create of the same object retries as an update once.
        for attempt in 0..<2 {
            do throws(APIError) {
                return try await guaranteedUpdate(strategy, version: version, namespace: namespace, name: name, target: target,
                                                  options: options, recordsManagedFields: false) { current in
                    try Self.merge(config, fields: fields, into: current, force: force, context: context)
                }
            } catch where error.code == 404 && error.reason == "NotFound" && target == .main && attempt == 0 {
                var object = ApplyMerge.merge(config, into: .object([:]), typeName: context.typeName)
                object[path: ["metadata", "name"]] = .string(name)
                var managed = ManagedFields()
                managed.set(manager: manager, operation: .apply, subresource: nil, fields: fields, apiVersion: context.apiVersion, time: context.time)
                managed.store(in: &object)
                do throws(APIError) {
                    return try await create(strategy, version: version, namespace: namespace, body: object, options: options,
                                            recordsManagedFields: false)
                } catch where error.code == 409 && error.reason == "AlreadyExists" {
                    continue
                }
            }
        }
        throw APIError.conflict(def, name, APIError.modifiedConflict)
    }

    /// Records an `Update` by `options.fieldManager` for a non-apply write: the manager gains
    /// the fields that changed from `old` to `new` and other managers lose them. Managed fields
    /// the client sent with a write of the object itself are kept as the base when they decode,
    /// as kube does; `[{}]` drops them all.
    func recordUpdate(old: JSONValue?, new: inout JSONValue, strategy: any ResourceStrategy, version: String,
                      target: UpdateTarget, options: WriteOptions) {
        let def = strategy.definition
        let context = ApplyContext(manager: options.fieldManager.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown",
                                   subresource: target == .status ? "status" : nil, apiVersion: def.apiVersion(version),
                                   typeName: def.schemaNames[def.storageVersion], statusRule: Self.statusRule(def, target),
                                   time: Timestamp.format(clock()))
        let sent = new[path: ["metadata", "managedFields"]]
        if target == .main && ManagedFields.isReset(sent) {
            new[path: ["metadata", "managedFields"]] = nil
            return
        }
        // Managed fields the client sent replace the stored ones; only without them is the old
        // object's list read.
        let managedSent = target == .main && !(sent?.arrayValue ?? []).isEmpty ? sent.flatMap { try? ManagedFields(json: $0) } : nil
        var managed = managedSent ?? ManagedFields.of(old ?? .object([:]))
        var before = old ?? .object([:]), after = new
        before[path: ["metadata", "managedFields"]] = nil
        after[path: ["metadata", "managedFields"]] = nil
        let diff = FieldSets.compare(before, after, typeName: context.typeName)
        let changed = context.owned(diff.changed), removed = context.owned(diff.removed)
        managed.remove(removed)
        managed.remove(changed, exceptManager: context.manager, operation: .update, subresource: context.subresource)
        let mine = managed.fields(manager: context.manager, operation: .update, subresource: context.subresource)
            .union(changed).subtracting(removed)
        managed.set(manager: context.manager, operation: .update, subresource: context.subresource, fields: mine,
                    apiVersion: context.apiVersion, time: context.time)
        managed.store(in: &new)
    }

    /// Which part of the object a write through `target` may own.
    static func statusRule(_ def: ResourceDefinition, _ target: UpdateTarget) -> ApplyContext.StatusRule {
        guard def.subresources.contains(.status) else { return .any }
        return target == .status ? .onlyStatus : .noStatus
    }

    /// The apply step inside the transaction: `current` is the live object as the client's
    /// version sees it; returns the new object with its managed fields.
    static func merge(_ config: JSONValue, fields: FieldSet, into current: JSONValue, force: Bool,
                      context: ApplyContext) throws(APIError) -> JSONValue {
        var managed = ManagedFields.of(current)
        let previous = managed.fields(manager: context.manager, operation: .apply, subresource: context.subresource)
        var others = FieldSet()
        for e in managed.entries where !e.isSlot(manager: context.manager, operation: .apply, subresource: context.subresource) {
            others = others.union(e.fields)
        }
        // Fields this manager applied before and dropped now go, unless someone else owns them.
        let dropped = previous.subtracting(fields).subtracting(others)
        var live = current
        live[path: ["metadata", "managedFields"]] = nil
        let base = ApplyMerge.removing(dropped, from: live, typeName: context.typeName)
        var merged = ApplyMerge.merge(config, into: base, typeName: context.typeName)
        let diff = FieldSets.compare(live, merged, typeName: context.typeName)
        let touched = context.owned(diff.changed).union(context.owned(diff.removed))

        var conflicts: [(manager: String, path: FieldPath)] = []
        // Managers are told apart by name, operation and subresource, as kube does: the same
        // client's earlier Update (e.g. `kubectl scale`) conflicts with its Apply.
        for e in managed.entries where !e.isSlot(manager: context.manager, operation: .apply, subresource: context.subresource) {
            for p in e.fields.intersection(touched).paths { conflicts.append((Self.describeManager(e), p)) }
        }
        if !conflicts.isEmpty && !force { throw conflictError(conflicts) }
        managed.remove(touched, exceptManager: context.manager, operation: .apply, subresource: context.subresource)
        managed.set(manager: context.manager, operation: .apply, subresource: context.subresource, fields: fields,
                    apiVersion: context.apiVersion, time: context.time)
        managed.store(in: &merged)
        return merged
    }

    /// A manager as kube names it in conflicts: `"kubectl"`, or `"kubectl-edit" using apps/v1`
    /// for an updater, with the subresource when there is one.
    static func describeManager(_ e: ManagedFieldsEntry) -> String {
        var s = JSONWriter.string(.string(e.manager))
        if let sub = e.subresource { s += " with subresource \(JSONWriter.string(.string(sub)))" }
        if e.operation == .update { s += " using \(e.apiVersion)" }
        return s
    }

    /// 409 Conflict in kube-apiserver's words, one cause per conflicting field.
    static func conflictError(_ conflicts: [(manager: String, path: FieldPath)]) -> APIError {
        let sorted = conflicts.sorted { $0.manager != $1.manager ? $0.manager < $1.manager : $0.path < $1.path }
        let causes: [JSONValue] = sorted.map {
            ["reason": "FieldManagerConflict", "message": .string("conflict with \($0.manager)"), "field": .string($0.path.description)]
        }
        let message: String
        if let only = sorted.first, sorted.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \(only.manager): \(only.path)"
        } else {
            var lines: [String] = []
            var last: String?
            for c in sorted {
                if c.manager != last { lines.append("conflicts with \(c.manager):"); last = c.manager }
                lines.append("- \(c.path)")
            }
            message = "Apply failed with \(sorted.count) conflicts: " + lines.joined(separator: "\n")
        }
        return APIError(code: 409, reason: "Conflict", message: message, details: ["causes": .array(causes)])
    }
}

/// What one managed-fields computation needs to know about the write.
struct ApplyContext: Sendable {
    /// Whether a write may own `status` (kinds with a status subresource split it off).
    enum StatusRule: Sendable { case any, noStatus, onlyStatus }

    var manager: String
    var subresource: String?
    var apiVersion: String
    var typeName: String?
    var statusRule: StatusRule
    var time: String

    /// `set` limited to what this write can own: no server-maintained fields, and `status`
    /// only through the status subresource.
    func owned(_ set: FieldSet) -> FieldSet {
        let s = FieldSets.strippingServerOwned(set)
        switch statusRule {
        case .any: return s
        case .onlyStatus: return s.onlySubtree([.field("status")])
        case .noStatus:
            var t = s
            t.removeSubtree([.field("status")])
            return t
        }
    }
}
