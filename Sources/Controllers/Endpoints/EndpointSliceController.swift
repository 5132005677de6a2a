import Foundation
import KubeClient
import KubeModel

/// Kubernetes' EndpointSlice controller: for each Service with a selector, discovery.k8s.io/v1
/// EndpointSlices (`<service>-xxxxx`) holding the selected pods, one group of slices per
/// distinct set of resolved ports, at most `maxEndpoints` endpoints each. Slice names are a
/// hash of the Service uid, port set and chunk, so a reconcile that runs on a lagging cache
/// finds an existing name (409) instead of creating a duplicate. Written only when changed.
public struct EndpointSliceController: Reconciler {
    static let resource = ResourcePath(group: "discovery.k8s.io", version: "v1", plural: "endpointslices")
    static let serviceNameLabel = "kubernetes.io/service-name"
    static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    static let managedBy = "endpointslice-controller.k8s.io"
    static let maxEndpoints = 100

    let client: any ResourceClient
    let services: ObjectCache
    let pods: ObjectCache
    let slices: ObjectCache

    init(client: any ResourceClient, services: ObjectCache, pods: ObjectCache, slices: ObjectCache) {
        self.client = client
        self.services = services
        self.pods = pods
        self.slices = slices
    }

    /// The slices this controller manages for the Service `name` in `namespace`.
    static func managedSlices(_ slices: ObjectCache, namespace: String, service name: String) -> [JSONValue] {
        slices.list(namespace: namespace).filter {
            $0.labels[serviceNameLabel] == name && $0.labels[managedByLabel] == managedBy
        }
    }

    /// Slice events wake their Service (to repair or delete them).
    static func sliceHandler(_ enqueue: @escaping @Sendable (String) -> Void) -> InformerHandler {
        .any { slice in
            guard slice.labels[managedByLabel] == managedBy, let svc = slice.labels[serviceNameLabel] else { return }
            enqueue(ObjectCache.key(namespace: slice.namespace, name: svc))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        let (nsOrNil, name) = ObjectCache.split(key)
        let namespace = nsOrNil ?? ""
        let existing = Self.managedSlices(slices, namespace: namespace, service: name)
        let collection = Self.resource.inNamespace(namespace)
        var desired: [String: JSONValue] = [:]
        if let service = services.get(key), let selector = ServiceEndpoints.selector(of: service) {
            desired = Self.desiredSlices(service, ServiceEndpoints.endpoints(for: service, selector: selector, pods: pods))
        } else if services.get(key) != nil {
            // A Service without a selector: its slices are someone else's to write.
            return .done
        }
        var firstError: (any Error)?
        for (sliceName, slice) in desired.sorted(by: { $0.key < $1.key }) {
            do {
                if let current = existing.first(where: { $0.name == sliceName }) {
                    guard !Self.sameContent(current, slice) else { continue }
                    var updated = current
                    for field in ["endpoints", "ports", "addressType"] { updated[field] = slice[field] }
                    updated[path: ["metadata", "labels"]] = slice[path: ["metadata", "labels"]]
                    _ = try await client.update(collection.named(sliceName).path, updated)
                } else {
                    _ = try await client.create(collection.path, slice)
                }
            } catch {
                firstError = firstError ?? error
            }
        }
        for slice in existing where desired[slice.name ?? ""] == nil {
            do { _ = try await client.delete(collection.named(slice.name ?? "").path) } catch let e as KubeAPIError where e.isNotFound {
            } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
        return .done
    }

    static func sameContent(_ current: JSONValue, _ desired: JSONValue) -> Bool {
        ["endpoints", "ports", "addressType"].allSatisfy { (current[$0] ?? .array([])) == (desired[$0] ?? .array([])) }
            && current.labels == desired.labels
    }

    /// Slices by name: the endpoints grouped by port set, chunked. A Service selecting no pod
    /// still gets one empty slice, as in Kubernetes, so that consumers see "no endpoints".
    static func desiredSlices(_ service: JSONValue, _ eps: [ServiceEndpoints.PodEndpoint]) -> [String: JSONValue] {
        let name = service.name ?? ""
        var groups: [String: (ports: [JSONValue], endpoints: [JSONValue])] = [:]
        for ep in eps {
            var endpoint: JSONValue = [
                "addresses": [.string(ep.ip)],
                "conditions": ["ready": .bool(ep.ready), "serving": .bool(ep.serving), "terminating": .bool(ep.terminating)],
                "targetRef": ep.targetRef,
            ]
            if let node = ep.nodeName { endpoint["nodeName"] = .string(node) }
            if let hostname = ep.hostname { endpoint["hostname"] = .string(hostname) }
            groups[ep.portKey, default: (ep.ports, [])].endpoints.append(endpoint)
        }
        if groups.isEmpty {
            let ports = (service[path: ["spec", "ports"]]?.arrayValue ?? []).map { p -> JSONValue in
                ["name": .string(p["name"]?.stringValue ?? ""), "protocol": .string(p["protocol"]?.stringValue ?? "TCP")]
            }
            groups[""] = (ports, [])
        }
        var labels = service.labels
        labels[serviceNameLabel] = name
        labels[managedByLabel] = managedBy
        let owner = ObjectRules.ownerReference(to: service, apiVersion: "v1", kind: "Service")
        var out: [String: JSONValue] = [:]
        for (portKey, group) in groups {
            let chunks = stride(from: 0, to: max(group.endpoints.count, 1), by: maxEndpoints).map {
                Array(group.endpoints[$0..<min($0 + maxEndpoints, group.endpoints.count)])
            }
            for (i, chunk) in chunks.enumerated() {
                let sliceName = "\(name)-\(suffix("\(service.uid ?? "")/\(portKey)/\(i)"))"
                out[sliceName] = [
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": [
                        "name": .string(sliceName), "namespace": .string(service.namespace ?? ""),
                        "labels": .object(labels.mapValues(JSONValue.string)), "ownerReferences": [owner],
                    ],
                    "addressType": "IPv4", "endpoints": .array(chunk), "ports": .array(group.ports),
                ]
            }
        }
        return out
    }

    private static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    /// Five characters of FNV-1a over `seed`, in the alphabet Kubernetes' generated names use.
    static func suffix(_ seed: String) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in seed.utf8 {
            hash ^= UInt64(b)
            hash = hash &* 1_099_511_628_211
        }
        var out = ""
        for _ in 0..<5 {
            out.append(alphabet[Int(hash % UInt64(alphabet.count))])
            hash /= UInt64(alphabet.count)
        }
        return out
    }
}
