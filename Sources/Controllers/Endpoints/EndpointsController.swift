import Foundation
import KubeClient
import KubeModel
import Logging

/// Kubernetes' endpoints controller: for each Service with a selector, an Endpoints object of
/// the same name with the ready pod addresses in `subsets[].addresses`, the others in
/// `notReadyAddresses`, one subset per distinct set of resolved ports. Written only when the
/// content changes; Services without a selector are left alone.
public struct EndpointsController: Reconciler {
    static let resource = ResourcePath.core("endpoints")

    let client: any ResourceClient
    let services: ObjectCache
    let pods: ObjectCache
    let endpoints: ObjectCache

    init(client: any ResourceClient, services: ObjectCache, pods: ObjectCache, endpoints: ObjectCache) {
        self.client = client
        self.services = services
        self.pods = pods
        self.endpoints = endpoints
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        let (namespace, name) = ObjectCache.split(key)
        let path = Self.resource.inNamespace(namespace).named(name).path
        let current = endpoints.get(key)
        guard let service = services.get(key) else {
            // The Service is gone: so are its endpoints.
            if current != nil {
                do { _ = try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound {}
            }
            return .done
        }
        guard let selector = ServiceEndpoints.selector(of: service) else { return .done }
        let subsets = Self.subsets(ServiceEndpoints.endpoints(for: service, selector: selector, pods: pods))
        let labels = service[path: ["metadata", "labels"]] ?? .object([:])
        if let current {
            let same = (current["subsets"] ?? .array([])) == subsets && (current[path: ["metadata", "labels"]] ?? .object([:])) == labels
            if same { return .done }
            var updated = current
            updated["subsets"] = subsets
            updated[path: ["metadata", "labels"]] = labels
            _ = try await client.update(path, updated)
        } else {
            let object: JSONValue = [
                "apiVersion": "v1", "kind": "Endpoints",
                "metadata": ["name": .string(name), "namespace": .string(namespace ?? ""), "labels": labels],
                "subsets": subsets,
            ]
            _ = try await client.create(Self.resource.inNamespace(namespace).path, object)
        }
        return .done
    }

    /// One subset per distinct port set, in a stable order.
    static func subsets(_ eps: [ServiceEndpoints.PodEndpoint]) -> JSONValue {
        var groups: [String: (ports: [JSONValue], ready: [JSONValue], notReady: [JSONValue])] = [:]
        for ep in eps {
            var address: JSONValue = ["ip": .string(ep.ip), "targetRef": ep.targetRef]
            if let node = ep.nodeName { address["nodeName"] = .string(node) }
            if let hostname = ep.hostname { address["hostname"] = .string(hostname) }
            var g = groups[ep.portKey] ?? (ep.ports, [], [])
            if ep.ready { g.ready.append(address) } else { g.notReady.append(address) }
            groups[ep.portKey] = g
        }
        return .array(groups.keys.sorted().compactMap { key in
            guard let g = groups[key] else { return nil }
            var subset: [String: JSONValue] = [:]
            if !g.ready.isEmpty { subset["addresses"] = .array(g.ready) }
            if !g.notReady.isEmpty { subset["notReadyAddresses"] = .array(g.notReady) }
            if !g.ports.isEmpty { subset["ports"] = .array(g.ports) }
            return .object(subset)
        })
    }
}
