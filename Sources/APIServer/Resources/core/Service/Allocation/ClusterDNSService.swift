import Foundation
import KubeModel

extension APIServerBuilder {
    /// The `kube-dns` Service in kube-system at the service range's tenth address (10.96.0.10
    /// with the default range), ports `dns` (UDP) and `dns-tcp` (TCP) 53, as kubeadm installs
    /// it. It has no selector: the controller manager points its Endpoints and EndpointSlice at
    /// the nodes' DNS servers. A user may delete it; it is back at the next start.
    static func bootstrapClusterDNSService(_ registry: Registry, _ config: APIServerConfiguration) async throws {
        guard let range = ServiceIPRange(cidr: config.serviceClusterIPRange), range.size > 11,
              let services = registry.catalog.strategy(group: "", plural: "services") else { return }
        let key = ResourceCatalog.key(services.definition, namespace: ClusterDNSServiceName.namespace, name: ClusterDNSServiceName.name)
        guard try await registry.store.get(key: key) == nil else { return }
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": [
                "name": .string(ClusterDNSServiceName.name), "namespace": .string(ClusterDNSServiceName.namespace),
                "labels": ["k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS", "kubernetes.io/cluster-service": "true"],
            ],
            "spec": [
                "type": "ClusterIP", "clusterIP": .string(range.address(at: 10)), "sessionAffinity": "None",
                "ports": [
                    ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53],
                    ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                ],
            ],
        ]
        do {
            _ = try await registry.create(services, version: "v1", namespace: ClusterDNSServiceName.namespace, body: service,
                                          options: WriteOptions())
        } catch {
            // The address may belong to a Service made before this one existed: leave it be.
            if error.code != 409 && error.code != 422 { throw error }
        }
    }
}

/// Where the cluster DNS Service lives (shared with the controller that keeps its endpoints).
public enum ClusterDNSServiceName {
    public static let namespace = "kube-system"
    public static let name = "kube-dns"
}
