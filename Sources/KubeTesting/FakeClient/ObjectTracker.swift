import Foundation
import KubeClient
import KubeModel
import NIOConcurrencyHelpers

/// The objects a `RecordingClient` serves, in memory (client-go's `ObjectTracker`): create
/// names `generateName` objects and stamps uid, resourceVersion and generation; update and
/// patch honour `resourceVersion` preconditions; delete honours uid preconditions and
/// finalizers; `status` and `scale` subresources write only their part. Errors are the API
/// server's (`KubeAPIError` with Kubernetes' codes and reasons).
public final class ObjectTracker: Sendable {
    private struct State {
        var objects: [String: JSONValue] = [:]
        var documents: [String: JSONValue] = [:]
        var revision = 0
        var names = 0
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Stores `object` under `resource` (its namespace from the object), stamping uid and
    /// resourceVersion when missing; answers what is stored.
    @discardableResult
    public func add(_ object: JSONValue, to resource: ResourcePath) -> JSONValue {
        state.withLockedValue { state in
            var stored = object
            state.revision += 1
            if stored.uid == nil { stored[path: ["metadata", "uid"]] = .string(Self.uid(state.revision)) }
            stored[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
            if stored[path: ["metadata", "generation"]] == nil { stored[path: ["metadata", "generation"]] = 1 }
            state.objects[Self.key(resource, namespace: stored.namespace, name: stored.name ?? "")] = stored
            return stored
        }
    }

    /// Serves `document` at `path` for GETs outside any resource (e.g. `/apis/apps/v1`).
    public func addDocument(_ document: JSONValue, at path: String) {
        state.withLockedValue { $0.documents[path] = document }
    }

    /// The stored object, if any.
    public func object(_ resource: ResourcePath, namespace: String?, name: String) -> JSONValue? {
        state.withLockedValue { $0.objects[Self.key(resource, namespace: namespace, name: name)] }
    }

    /// Every stored object of `resource` (in `namespace` when given), by name.
    public func objects(_ resource: ResourcePath, namespace: String? = nil) -> [JSONValue] {
        let prefix = Self.collectionKey(resource) + (namespace.map { $0 + "/" } ?? "")
        let matching = state.withLockedValue { state in state.objects.filter { $0.key.hasPrefix(prefix) } }
        return matching.values.sorted { ($0.name ?? "") < ($1.name ?? "") }
    }

    // MARK: - verbs

    func get(_ path: ResourcePath) throws -> JSONValue {
        let object = try existing(path)
        switch path.subresource {
        case nil, "status": return object
        case "scale": return Self.scale(of: object)
        case let other?: throw Self.notFound("the server could not find the requested resource (\(other))")
        }
    }

    func document(_ path: String) throws -> JSONValue {
        guard let doc = state.withLockedValue({ $0.documents[path] }) else {
            throw Self.notFound("the server could not find the requested resource")
        }
        return doc
    }

    func list(_ path: ResourcePath, labelSelector: String?) throws -> JSONValue {
        let selector = try labelSelector.map { s in
            do { return try LabelSelector.parse(s) } catch {
                throw KubeAPIError(code: 400, reason: "BadRequest", message: "unable to parse requirement: \(error)")
            }
        }
        var collection = path
        collection.name = nil
        let items = objects(collection, namespace: path.namespace).filter { selector?.matches($0.labels) ?? true }
        let revision = state.withLockedValue { $0.revision }
        return ["apiVersion": "v1", "kind": "List", "metadata": ["resourceVersion": .string(String(revision))], "items": .array(items)]
    }

    func create(_ path: ResourcePath, _ body: JSONValue) throws -> JSONValue {
        // Subresource creates (binding, eviction, token) are actions, not objects.
        if path.subresource != nil || path.name != nil { return body }
        return try state.withLockedValue { state in
            var object = body
            var name = object.name ?? ""
            if name.isEmpty, let prefix = object[path: ["metadata", "generateName"]]?.stringValue {
                state.names += 1
                name = prefix + Self.suffix(state.names)
                object[path: ["metadata", "name"]] = .string(name)
            }
            guard !name.isEmpty else {
                throw KubeAPIError(code: 422, reason: "Invalid", message: "metadata.name: Required value: name or generateName is required")
            }
            if let ns = path.namespace { object[path: ["metadata", "namespace"]] = .string(ns) }
            let key = Self.key(path, namespace: path.namespace, name: name)
            guard state.objects[key] == nil else {
                throw KubeAPIError(code: 409, reason: "AlreadyExists", message: "\(path.plural) \"\(name)\" already exists")
            }
            state.revision += 1
            object[path: ["metadata", "uid"]] = .string(Self.uid(state.revision))
            object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
            object[path: ["metadata", "generation"]] = 1
            object[path: ["metadata", "creationTimestamp"]] = .string(Timestamp.now())
            state.objects[key] = object
            return object
        }
    }

    func update(_ path: ResourcePath, _ body: JSONValue) throws -> JSONValue {
        try write(path, precondition: body.resourceVersion) { old in
            switch path.subresource {
            case "status":
                var new = old
                new["status"] = body["status"]
                return new
            case "scale":
                var new = old
                new[path: ["spec", "replicas"]] = body[path: ["spec", "replicas"]] ?? .int(0)
                return new
            default:
                var new = body
                // The main resource does not write status (it has its own subresource).
                new["status"] = old["status"]
                for field in ["uid", "creationTimestamp", "generation", "namespace", "name"] {
                    new[path: ["metadata", field]] = old[path: ["metadata", field]]
                }
                return new
            }
        }
    }

    func patch(_ path: ResourcePath, _ patch: JSONValue, type: PatchType) throws -> JSONValue {
        try write(path, precondition: patch[path: ["metadata", "resourceVersion"]]?.stringValue) { old in
            let base = path.subresource == "scale" ? Self.scale(of: old) : old
            let patched: JSONValue
            switch type {
            case .merge: patched = JSONMergePatch.apply(patch, to: base)
            case .json:
                do { patched = try JSONPatch.apply(patch, to: base) } catch {
                    throw KubeAPIError(code: 422, reason: "Invalid", message: "\(error)")
                }
            case .strategicMerge, .apply:
                throw KubeAPIError(code: 415, reason: "UnsupportedMediaType",
                                   message: "the fake client serves merge and JSON patches only")
            }
            var new = old
            switch path.subresource {
            case "status": new["status"] = patched["status"]
            case "scale": new[path: ["spec", "replicas"]] = patched[path: ["spec", "replicas"]] ?? .int(0)
            default:
                new = patched
                new["status"] = old["status"]
            }
            return new
        }
    }

    func delete(_ path: ResourcePath, options: JSONValue?) throws -> JSONValue {
        try state.withLockedValue { state in
            let key = Self.key(path, namespace: path.namespace, name: path.name ?? "")
            guard var object = state.objects[key] else { throw Self.notFound("\(path.plural) \"\(path.name ?? "")\" not found") }
            if let uid = options?[path: ["preconditions", "uid"]]?.stringValue, !uid.isEmpty, uid != object.uid {
                throw KubeAPIError(code: 409, reason: "Conflict", message: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid ?? "")")
            }
            if !(object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty {
                state.revision += 1
                if object[path: ["metadata", "deletionTimestamp"]] == nil {
                    object[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.now())
                }
                object[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
                state.objects[key] = object
                return object
            }
            state.objects[key] = nil
            return ["apiVersion": "v1", "kind": "Status", "status": "Success",
                    "details": ["name": .string(path.name ?? ""), "kind": .string(path.plural), "uid": .string(object.uid ?? "")]]
        }
    }

    // MARK: - plumbing

    /// Applies `change` to the stored object under a resourceVersion precondition; bumps the
    /// resourceVersion, and the generation when the spec changed.
    private func write(_ path: ResourcePath, precondition: String?, _ change: (JSONValue) throws -> JSONValue) throws -> JSONValue {
        try state.withLockedValue { state in
            let key = Self.key(path, namespace: path.namespace, name: path.name ?? "")
            guard let old = state.objects[key] else { throw Self.notFound("\(path.plural) \"\(path.name ?? "")\" not found") }
            if let precondition, !precondition.isEmpty, precondition != old.resourceVersion {
                throw KubeAPIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(path.plural) \"\(path.name ?? "")\": the object has been modified; please apply your changes to the latest version and try again")
            }
            var new = try change(old)
            state.revision += 1
            new[path: ["metadata", "resourceVersion"]] = .string(String(state.revision))
            if new["spec"] != old["spec"] {
                new[path: ["metadata", "generation"]] = .int((old[path: ["metadata", "generation"]]?.intValue ?? 1) + 1)
            }
            state.objects[key] = new
            return new
        }
    }

    private func existing(_ path: ResourcePath) throws -> JSONValue {
        guard let object = object(path, namespace: path.namespace, name: path.name ?? "") else {
            throw Self.notFound("\(path.plural) \"\(path.name ?? "")\" not found")
        }
        return object
    }

    /// The autoscaling/v1 Scale of a scalable object.
    static func scale(of object: JSONValue) -> JSONValue {
        let matchLabels = object.stringMap(at: ["spec", "selector", "matchLabels"])
        let selector = matchLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [
            "apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": ["name": .string(object.name ?? ""), "namespace": .string(object.namespace ?? ""),
                         "uid": .string(object.uid ?? ""), "resourceVersion": .string(object.resourceVersion ?? "")],
            "spec": ["replicas": object[path: ["spec", "replicas"]] ?? .int(1)],
            "status": ["replicas": object[path: ["status", "replicas"]] ?? .int(0), "selector": .string(selector)],
        ]
    }

    static func notFound(_ message: String) -> KubeAPIError { KubeAPIError(code: 404, reason: "NotFound", message: message) }

    private static func collectionKey(_ resource: ResourcePath) -> String { "\(resource.group)/\(resource.plural)/" }

    private static func key(_ resource: ResourcePath, namespace: String?, name: String) -> String {
        collectionKey(resource) + (namespace ?? "") + "/" + name
    }

    private static func uid(_ n: Int) -> String { "00000000-0000-4000-8000-" + String(String(n, radix: 16).suffix(12)).leftPadded(to: 12) }

    /// Five characters, as the API server's `generateName` suffixes, but counted, so names are
    /// predictable in tests.
    private static func suffix(_ n: Int) -> String { String(String(n, radix: 36).suffix(5)).leftPadded(to: 5) }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
