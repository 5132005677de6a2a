import Foundation
import KubeModel
import Logging
import ServiceLifecycle

/// Serves the kinds of the stored CustomResourceDefinitions: follows the definitions' watch,
/// installs a `CustomResourceStrategy` per accepted definition into the API surface (routing,
/// discovery, OpenAPI), keeps each definition's NamesAccepted/Established conditions, and
/// empties a deleted definition's kind before releasing its cleanup finalizer.
struct CustomResourceServing: Service {
    let registry: Registry
    let logger: Logger

    static let prefix = "/registry/apiextensions.k8s.io/customresourcedefinitions/"

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (subscription, revision) = registry.store.watchFromNow(prefix: Self.prefix)
                _ = revision
                await withGracefulShutdownHandler {
                    await sync()
                    for await item in subscription.items {
                        guard case .event = item else { continue }
                        await sync()
                    }
                } onGracefulShutdown: {
                    subscription.cancel()
                }
                subscription.cancel()
            }
            // The watch was cut off: start over (unless shutting down).
            _ = try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(200)) }
        }
    }

    /// Reads every definition and makes the served kinds and their conditions match.
    func sync() async {
        guard let crds = registry.surface.builtins.first(where: { $0.definition.plural == "customresourcedefinitions" }) else { return }
        var all: [JSONValue] = []
        var after: String?
        repeat {
            guard let page = try? await registry.store.list(prefix: Self.prefix, startAfter: after, limit: 500, atRevision: nil) else { return }
            all += page.items.map(\.object)
            after = page.hasMore ? page.items.last?.key : nil
        } while after != nil
        var taken: Set<String> = []
        for s in registry.surface.builtins { taken.formUnion(Self.nameKeys(s.definition)) }
        var served: [any ResourceStrategy] = []
        var definitions: [String: SchemaNode] = [:]
        var terminating: [(JSONValue, CustomResourceStrategy)] = []
        // Oldest first: on a clash of names the definition created first keeps them.
        let oldestFirst = all.sorted { Self.created($0) < Self.created($1) }
        for crd in oldestFirst {
            guard let strategy = CustomResourceStrategy(crd: crd) else { continue }
            let keys = Self.nameKeys(strategy.definition)
            let accepted = taken.isDisjoint(with: keys)
            if accepted {
                taken.formUnion(keys)
                served.append(strategy)
                definitions.merge(Self.schemaDefinitions(crd, strategy)) { _, new in new }
            }
            if crd[path: ["metadata", "deletionTimestamp"]] != nil { terminating.append((crd, strategy)) }
            await setStatus(crd, strategy: crds, accepted: accepted, terminating: crd[path: ["metadata", "deletionTimestamp"]] != nil)
        }
        registry.surface.install(custom: served, definitions: definitions)
        for (crd, strategy) in terminating { await finishDeletion(crd, kind: strategy, crds: crds) }
    }

    static func created(_ o: JSONValue) -> String { o[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "" }

    /// What two kinds of one group may not share: the plural and each short name.
    static func nameKeys(_ d: ResourceDefinition) -> Set<String> {
        var keys: Set<String> = [d.group + "/" + d.plural]
        for short in d.shortNames { keys.insert(d.group + "/short/" + short) }
        return keys
    }

    /// The OpenAPI definitions of a served custom kind, one per version with a schema.
    static func schemaDefinitions(_ crd: JSONValue, _ strategy: CustomResourceStrategy) -> [String: SchemaNode] {
        var out: [String: SchemaNode] = [:]
        let d = strategy.definition
        for v in crd[path: ["spec", "versions"]]?.arrayValue ?? [] {
            guard let name = v["name"]?.stringValue, var schema = v[path: ["schema", "openAPIV3Schema"]],
                  let typeName = d.schemaNames[name] else { continue }
            var properties = schema["properties"]?.objectValue ?? [:]
            properties["apiVersion"] = ["type": "string"]
            properties["kind"] = ["type": "string"]
            properties["metadata"] = ["$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
            schema["properties"] = .object(properties)
            schema["x-kubernetes-group-version-kind"] = [["group": .string(d.group), "version": .string(name), "kind": .string(d.kind)]]
            out[typeName] = SchemaNode(json: schema)
        }
        return out
    }

    /// Writes the conditions Kubernetes' CRD controllers keep, when they changed.
    func setStatus(_ crd: JSONValue, strategy crds: any ResourceStrategy, accepted: Bool, terminating: Bool) async {
        guard let name = crd.name else { return }
        let names = crd[path: ["spec", "names"]] ?? .object([:])
        let storage = crd[path: ["spec", "versions"]]?.arrayValue?.first { $0["storage"]?.boolValue == true }?["name"] ?? .null
        func condition(_ type: String, _ ok: Bool, _ reason: String, _ message: String) -> JSONValue {
            let previous = crd[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == type }
            let status: JSONValue = ok ? "True" : "False"
            let since = previous?["status"] == status ? previous?["lastTransitionTime"] ?? .string(Timestamp.now()) : .string(Timestamp.now())
            return ["type": .string(type), "status": status, "lastTransitionTime": since, "reason": .string(reason), "message": .string(message)]
        }
        var conditions = [
            condition("NamesAccepted", accepted, accepted ? "NoConflicts" : "NameConflict",
                      accepted ? "no conflicts found" : "the plural or a short name is already in use"),
            condition("Established", accepted, accepted ? "InitialNamesAccepted" : "NotAccepted",
                      accepted ? "the initial names have been accepted" : "not all names are accepted"),
        ]
        if terminating { conditions.append(condition("Terminating", true, "InstanceDeletionInProgress", "CustomResource deletion is in progress")) }
        var stored = crd[path: ["status", "storedVersions"]]?.arrayValue ?? []
        if !stored.contains(storage), !storage.isNull { stored.append(storage) }
        let status: JSONValue = ["conditions": .array(conditions), "acceptedNames": accepted ? names : ["kind": "", "plural": ""],
                                 "storedVersions": .array(stored)]
        let comparable: (JSONValue?) -> JSONValue? = { s in
            guard var s else { return nil }
            s["conditions"] = .array((s["conditions"]?.arrayValue ?? []).map { c in var c = c; c["lastTransitionTime"] = nil; return c })
            return s
        }
        guard comparable(crd["status"]) != comparable(status) else { return }
        _ = try? await registry.guaranteedUpdate(crds, version: "v1", namespace: nil, name: name, target: .status, options: WriteOptions()) { current in
            var c = current
            c["status"] = status
            return c
        }
    }

    /// Deletes every object of a deleted definition's kind, then lets the definition go.
    func finishDeletion(_ crd: JSONValue, kind: CustomResourceStrategy, crds: any ResourceStrategy) async {
        guard let name = crd.name else { return }
        let prefix = ResourceCatalog.keyPrefix(kind.definition, namespace: nil)
        while let page = try? await registry.store.list(prefix: prefix, startAfter: nil, limit: 500, atRevision: nil), !page.items.isEmpty {
            for item in page.items { _ = try? await registry.store.delete(key: item.key) { _ in } }
        }
        _ = try? await registry.guaranteedUpdate(crds, version: "v1", namespace: nil, name: name, target: .main, options: WriteOptions()) { current in
            var c = current
            let kept = (c[path: ["metadata", "finalizers"]]?.arrayValue ?? []).filter {
                $0.stringValue != CustomResourceDefinitionStrategy.cleanupFinalizer
            }
            c[path: ["metadata", "finalizers"]] = .array(kept)
            return c
        }
        logger.info("custom resource definition removed", metadata: ["name": .string(name)])
    }
}
