import KubeClient
import KubeModel

/// A manifest resolved against the server: which resource serves it and in which namespace.
struct ManifestTarget {
    var manifest: Manifest
    var resource: APIResourceInfo
    /// Set for namespaced resources; the object's `metadata.namespace` is filled in to match.
    var namespace: String?

    var object: JSONValue { manifest.object }
    var name: String { manifest.name }
    /// `deployment.apps/web`, how kubectl names an object in its messages.
    var displayName: String { resource.kindPrefix + "/" + name }

    /// Resolves every manifest; the namespace comes from the object, else `-n`, else the
    /// context's. An object naming another namespace than an explicit `-n` is refused, as kubectl does.
    static func resolve(_ manifests: [Manifest], session: Session) async throws -> [ManifestTarget] {
        let fallback = try session.namespace()
        let explicit = session.options.namespace
        var out: [ManifestTarget] = []
        for m in manifests {
            guard let r = try await session.resource(apiVersion: m.apiVersion, kind: m.kind) else {
                throw CommandFailure("error: resource mapping not found for name: \"\(m.name)\" namespace: \"\(m.namespace ?? "")\" from \"\(m.source)\": no matches for kind \"\(m.kind)\" in version \"\(m.apiVersion)\"\nensure CRDs are installed first")
            }
            var target = ManifestTarget(manifest: m, resource: r, namespace: nil)
            if r.namespaced {
                if let own = m.namespace, !own.isEmpty, let explicit, !explicit.isEmpty, own != explicit {
                    throw CommandFailure.error("the namespace from the provided object \"\(own)\" does not match the namespace \"\(explicit)\". You must pass '--namespace=\(own)' to perform this operation.")
                }
                let ns = (m.namespace ?? "").isEmpty ? fallback : m.namespace ?? fallback
                target.namespace = ns
                target.manifest.object = Self.setting(["metadata", "namespace"], to: .string(ns), in: m.object)
            }
            out.append(target)
        }
        return out
    }

    var path: ResourcePath { resource.path(namespace: namespace, name: name) }
    var collectionPath: ResourcePath { resource.path(namespace: namespace) }

    /// `value` set at `path` in `object`, creating objects on the way.
    static func setting(_ path: [String], to value: JSONValue, in object: JSONValue) -> JSONValue {
        guard let key = path.first else { return value }
        var o = object.objectValue ?? [:]
        o[key] = setting(Array(path.dropFirst()), to: value, in: o[key] ?? .object([:]))
        return .object(o)
    }
}
