import Foundation
import KubeClient
import KubeModel

/// Keeps the `kube-system/kube-dns` Service's Endpoints and EndpointSlice pointing at the
/// nodes' DNS servers: every Node whose kubelet announces one (`dns.caravel.dev/address`),
/// ready while the Node is Ready. The Service has no selector, so the endpoint controllers
/// leave these objects to this one.
public struct ClusterDNSEndpointsController: Reconciler {
    static let namespace = "kube-system"
    static let name = "kube-dns"
    static let key = ObjectCache.key(namespace: namespace, name: name)
    static let addressAnnotation = "dns.caravel.dev/address"
    static let sliceName = "kube-dns-nodes"
    static let managedBy = "cluster-dns.caravel.dev"
    static let nodeResource = ResourcePath.core("nodes")

    let client: any ResourceClient
    let services: ObjectCache
    let nodes: ObjectCache
    let endpoints: ObjectCache
    let slices: ObjectCache

    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "cluster-dns-endpoints", workers: 1) { wiring in
            // Only a change to what is published wakes it: with thousands of nodes, each status
            // post must not cost a pass over every node.
            let wake = InformerHandler(onAdd: { node in if published(node) != nil { wiring.enqueue(key) } },
                                       onUpdate: { old, new in if published(old) != published(new) { wiring.enqueue(key) } },
                                       onDelete: { node in if published(node) != nil { wiring.enqueue(key) } })
            let own = InformerHandler.any { object in
                if object.namespace == namespace && (object.name == name || object.labels[EndpointSliceController.serviceNameLabel] == name) {
                    wiring.enqueue(key)
                }
            }
            wiring.watch(nodeResource, wake)
            wiring.watch(ServiceEndpoints.serviceResource, own)
            wiring.watch(EndpointsController.resource, own)
            wiring.watch(EndpointSliceController.resource, own)
            return ClusterDNSEndpointsController(client: client, services: wiring.cache(ServiceEndpoints.serviceResource),
                                                 nodes: wiring.cache(nodeResource), endpoints: wiring.cache(EndpointsController.resource),
                                                 slices: wiring.cache(EndpointSliceController.resource))
        }
    }

    /// A node's DNS server, as the controller publishes it.
    struct NodeServer: Equatable {
        var node: String
        var ip: String
        var ready: Bool
    }

    /// Nodes announcing a usable address (IPv4, not loopback), sorted by name.
    static func servers(_ nodes: [JSONValue]) -> [NodeServer] {
        nodes.compactMap(published).sorted { $0.node < $1.node }
    }

    /// The node's DNS server when it announces a usable one. The annotation is looked up
    /// first: most nodes of a large fleet announce none and cost only that lookup.
    static func published(_ node: JSONValue) -> NodeServer? {
        guard let ip = node[path: ["metadata", "annotations", addressAnnotation]]?.stringValue, isUsable(ip),
              let name = node.name else { return nil }
        let ready = ObjectRules.condition(node, "Ready")?["status"]?.stringValue == "True"
        return NodeServer(node: name, ip: ip, ready: ready)
    }

    static func isUsable(_ ip: String) -> Bool {
        let parts = ip.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        return parts.count == 4 && parts[0] != 127 && parts[0] != 0
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard key == Self.key else { return .done }
        let endpointsPath = EndpointsController.resource.inNamespace(Self.namespace)
        let slicesPath = EndpointSliceController.resource.inNamespace(Self.namespace)
        guard services.get(key) != nil else {
            // No Service (deleted by a user): nothing of it should linger.
            if endpoints.get(key) != nil { try await deleteIgnoringMissing(endpointsPath.named(Self.name).path) }
            if slices.get(namespace: Self.namespace, name: Self.sliceName) != nil {
                try await deleteIgnoringMissing(slicesPath.named(Self.sliceName).path)
            }
            return .done
        }
        let servers = Self.servers(nodes.list())
        let desiredEndpoints = Self.endpointsObject(servers)
        if let current = endpoints.get(key) {
            if (current["subsets"] ?? .array([])) != desiredEndpoints["subsets"] || current.labels != desiredEndpoints.labels {
                var updated = current
                updated["subsets"] = desiredEndpoints["subsets"]
                updated[path: ["metadata", "labels"]] = desiredEndpoints[path: ["metadata", "labels"]]
                _ = try await client.update(endpointsPath.named(Self.name).path, updated)
            }
        } else {
            _ = try await client.create(endpointsPath.path, desiredEndpoints)
        }
        let desiredSlice = Self.sliceObject(servers)
        if let current = slices.get(namespace: Self.namespace, name: Self.sliceName) {
            if !EndpointSliceController.sameContent(current, desiredSlice) {
                var updated = current
                for field in ["endpoints", "ports", "addressType"] { updated[field] = desiredSlice[field] }
                updated[path: ["metadata", "labels"]] = desiredSlice[path: ["metadata", "labels"]]
                _ = try await client.update(slicesPath.named(Self.sliceName).path, updated)
            }
        } else {
            _ = try await client.create(slicesPath.path, desiredSlice)
        }
        return .done
    }

    private func deleteIgnoringMissing(_ path: String) async throws {
        do { _ = try await client.delete(path) } catch let e as KubeAPIError where e.isNotFound {}
    }

    static let ports: [JSONValue] = [
        ["name": "dns", "port": 53, "protocol": "UDP"],
        ["name": "dns-tcp", "port": 53, "protocol": "TCP"],
    ]

    static func endpointsObject(_ servers: [NodeServer]) -> JSONValue {
        let address = { (s: NodeServer) -> JSONValue in ["ip": .string(s.ip), "nodeName": .string(s.node)] }
        var subset: [String: JSONValue] = ["ports": .array(ports)]
        let ready = servers.filter(\.ready).map(address), notReady = servers.filter { !$0.ready }.map(address)
        if !ready.isEmpty { subset["addresses"] = .array(ready) }
        if !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady) }
        return [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": .string(name), "namespace": .string(namespace),
                         "labels": ["k8s-app": "kube-dns", "endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": JSONValue.array(servers.isEmpty ? [] : [.object(subset)]),
        ]
    }

    static func sliceObject(_ servers: [NodeServer]) -> JSONValue {
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": .string(sliceName), "namespace": .string(namespace),
                "labels": ["k8s-app": "kube-dns", EndpointSliceController.serviceNameLabel: .string(name),
                           EndpointSliceController.managedByLabel: .string(managedBy)],
            ],
            "addressType": "IPv4",
            "endpoints": .array(servers.map { s -> JSONValue in
                ["addresses": [.string(s.ip)], "nodeName": .string(s.node),
                 "conditions": ["ready": .bool(s.ready), "serving": .bool(s.ready), "terminating": false]]
            }),
            "ports": .array(ports),
        ]
    }
}
