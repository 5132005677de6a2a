import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The `kube-dns` Service the API server makes and the endpoints the controller keeps from
/// the Nodes' DNS address annotations; and endpoint hostnames for pods with a subdomain.
@Suite struct ClusterDNSEndpointsTests {
    static let kubeSystem = ResourcePath.core("services", namespace: "kube-system")
    static let kubeSystemEndpoints = ResourcePath.core("endpoints", namespace: "kube-system")
    static let kubeSystemSlices = ResourcePath(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", namespace: "kube-system")

    static func node(_ name: String, address: String?, ready: Bool) -> JSONValue {
        var annotations: [String: JSONValue] = [:]
        if let address { annotations["dns.caravel.dev/address"] = .string(address) }
        return ["metadata": ["name": .string(name), "annotations": .object(annotations)],
                "status": ["conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]]]]
    }

    @Test func onlyUsableAnnouncedAddressesArePublished() {
        let servers = ClusterDNSEndpointsController.servers([
            Self.node("b", address: "10.244.1.1", ready: false), Self.node("a", address: "10.244.0.1", ready: true),
            Self.node("c", address: nil, ready: true), Self.node("d", address: "127.0.0.1", ready: true),
            Self.node("e", address: "not-an-ip", ready: true),
        ])
        #expect(servers == [.init(node: "a", ip: "10.244.0.1", ready: true), .init(node: "b", ip: "10.244.1.1", ready: false)])
        let endpoints = ClusterDNSEndpointsController.endpointsObject(servers)
        let subset = endpoints["subsets"]?.arrayValue?.first
        #expect(subset?["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.244.0.1"])
        #expect(subset?["notReadyAddresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue } == ["10.244.1.1"])
        #expect(ClusterDNSEndpointsController.endpointsObject([])["subsets"] == .array([]))
        let slice = ClusterDNSEndpointsController.sliceObject(servers)
        #expect(slice.labels["kubernetes.io/service-name"] == "kube-dns")
        #expect(slice["endpoints"]?.arrayValue?.count == 2)
    }

    @Test func onlyWhatIsPublishedWakesTheController() {
        let published = ClusterDNSEndpointsController.published
        var heartbeat = Self.node("a", address: "10.244.0.1", ready: true)
        heartbeat[path: ["status", "conditions"]] = [["type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"]]
        // A status post that changes nothing published (the common case on a large fleet).
        #expect(published(heartbeat) == published(Self.node("a", address: "10.244.0.1", ready: true)))
        #expect(published(Self.node("a", address: "10.244.0.1", ready: false)) != published(heartbeat))
        #expect(published(Self.node("a", address: "10.244.0.2", ready: true)) != published(heartbeat))
        #expect(published(Self.node("f", address: nil, ready: true)) == nil)
    }

    @Test func subdomainPodsGetTheirHostnameOnlyUnderTheirService() {
        let pod: JSONValue = ["spec": ["hostname": "db-0", "subdomain": "db"]]
        #expect(ServiceEndpoints.hostname(of: pod, service: "db") == "db-0")
        #expect(ServiceEndpoints.hostname(of: pod, service: "web") == nil)
        #expect(ServiceEndpoints.hostname(of: ["spec": ["hostname": "x"]], service: "db") == nil)
    }

    @Test(.timeLimit(.minutes(5))) func kubeDNSServiceFollowsTheNodes() async throws {
        try await withControlPlane { client in
            let service = try await client.get(Self.kubeSystem.named("kube-dns").path)
            #expect(service[path: ["spec", "clusterIP"]]?.stringValue == "10.96.0.10")
            #expect(service[path: ["spec", "selector"]] == nil)
            let ports = (service[path: ["spec", "ports"]]?.arrayValue ?? []).map { "\($0["name"]?.stringValue ?? "")/\($0["protocol"]?.stringValue ?? "")/\($0["port"]?.intValue ?? 0)" }
            #expect(ports == ["dns/UDP/53", "dns-tcp/TCP/53"])

            _ = try await client.create("/api/v1/nodes", ["apiVersion": "v1", "kind": "Node", "metadata": [
                "name": "dns-node", "annotations": ["dns.caravel.dev/address": "10.244.3.1"]]])
            _ = try await client.patch("/api/v1/nodes/dns-node/status", ["status": ["conditions": [
                ["type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": .string(Timestamp.now())]]]], type: .merge)
            let listed = await eventually(timeout: .seconds(60)) {
                let ep = try? await client.get(Self.kubeSystemEndpoints.named("kube-dns").path)
                let slice = try? await client.get(Self.kubeSystemSlices.named("kube-dns-nodes").path)
                let epIPs = ep?["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue?.compactMap { $0["ip"]?.stringValue }
                let sliceIPs = slice?["endpoints"]?.arrayValue?.compactMap { $0["addresses"]?.arrayValue?.first?.stringValue }
                return epIPs == ["10.244.3.1"] && sliceIPs == ["10.244.3.1"]
            }
            #expect(listed, "kube-dns Endpoints and EndpointSlice list the node's DNS server")

            // The annotation goes: so does the address.
            _ = try await client.patch("/api/v1/nodes/dns-node", ["metadata": ["annotations": ["dns.caravel.dev/address": .null]]], type: .merge)
            let emptied = await eventually(timeout: .seconds(60)) {
                let slice = try? await client.get(Self.kubeSystemSlices.named("kube-dns-nodes").path)
                return slice?["endpoints"]?.arrayValue?.isEmpty == true
            }
            #expect(emptied)
        }
    }
}
