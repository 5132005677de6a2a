import KubeClient
import KubeModel

/// kubectl's client-side apply: create with the `last-applied-configuration` annotation, or
/// patch with the three-way strategic merge patch computed from that annotation, the new
/// configuration and the live object. An empty patch is not sent (`unchanged`).
struct ClientSideApply {
    static let annotation = "kubectl.kubernetes.io/last-applied-configuration"

    let client: KubeRESTClient
    let fieldManager = "kubectl-client-side-apply"

    enum Outcome: String {
        case created, configured, unchanged
    }

    /// `object` with the annotation holding its own JSON (without the annotation), as kubectl
    /// writes it: compact, keys sorted, ending in a newline.
    static func annotated(_ object: JSONValue) -> JSONValue {
        var metadata = object["metadata"]?.objectValue ?? [:]
        var annotations = metadata["annotations"]?.objectValue ?? [:]
        annotations[annotation] = nil
        // Like kubectl, the stored copy keeps an (often empty) annotations map.
        var bare = object.objectValue ?? [:]
        var bareMeta = metadata
        bareMeta["annotations"] = .object(annotations)
        bare["metadata"] = .object(bareMeta)
        annotations[annotation] = .string(JSONWriter.string(.object(bare)) + "\n")
        metadata["annotations"] = .object(annotations)
        var out = object.objectValue ?? [:]
        out["metadata"] = .object(metadata)
        return .object(out)
    }

    func apply(_ t: ManifestTarget, dryRun: DryRun, warn: (String) -> Void) async throws -> Outcome {
        let modified = Self.annotated(t.object)
        let live: JSONValue
        do { live = try await client.get(t.path.path) } catch let e as KubeAPIError where e.isNotFound {
            if dryRun != .client {
                var query = dryRun.query
                query["fieldManager"] = fieldManager
                _ = try await client.create(t.collectionPath.path, modified, query: query)
            }
            return .created
        }
        let lastApplied = live["metadata"]?["annotations"]?[Self.annotation]?.stringValue
        if lastApplied == nil {
            warn("Warning: resource \(t.resource.name)/\(t.name) is missing the \(Self.annotation) annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.")
        }
        let original = lastApplied.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .object([:])
        let typeName = Schema.kubernetes.typeName(group: t.resource.group, version: t.resource.version, kind: t.resource.kind)
        let patch = ThreeWayMergePatch.create(original: original, modified: modified, current: live, typeName: typeName)
        if patch.objectValue?.isEmpty ?? true { return .unchanged }
        if dryRun != .client {
            var query = dryRun.query
            query["fieldManager"] = fieldManager
            _ = try await client.patch(t.path.path, patch, type: typeName == nil ? .merge : .strategicMerge, query: query)
        }
        return .configured
    }
}
