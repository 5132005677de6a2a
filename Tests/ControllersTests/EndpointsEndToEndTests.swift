import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// The endpoint controllers against the real API server: a Service with a named targetPort,
/// pods that the test makes Ready (and not) through `/status`, and the Endpoints and
/// EndpointSlice that follow them. Also the `kubernetes` Service the API server creates.
@Suite struct EndpointsEndToEndTests {
    static let services = ResourcePath.core("services", namespace: "default")
    static let pods = ResourcePath.core("pods", namespace: "default")
    static let endpoints = ResourcePath.core("endpoints", namespace: "default")
    static let slices = ResourcePath(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", namespace: "default")

    @Test(.timeLimit(.minutes(5))) func endpointsFollowPods() async throws {
        try await withControlPlane(scenario)
    }

    static func pod(_ name: String, port: Int64) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": ["app": "web"]],
            // Bound already (to a node nobody runs), so the scheduler leaves it alone.
            "spec": ["nodeName": "node-a", "containers": [["name": "web", "image": "nginx",
                                                           "ports": [["name": "http", "containerPort": .int(port)]]]]],
        ]
    }

    static func setStatus(_ client: KubeRESTClient, _ name: String, ip: String, ready: Bool) async throws {
        let status: JSONValue = [
            "status": [
                "phase": "Running", "podIP": .string(ip), "podIPs": [["ip": .string(ip)]],
                "conditions": [["type": "Ready", "status": .string(ready ? "True" : "False")]],
            ],
        ]
        _ = try await client.patch(pods.named(name).path + "/status", status, type: .merge)
    }

    /// The `web` Endpoints as (ready IP -> port) and not-ready IPs.
    static func endpointsView(_ client: KubeRESTClient) async throws -> (ready: [String: Int64], notReady: Set<String>)? {
        guard let ep = try? await client.get(endpoints.named("web").path) else { return nil }
        var ready: [String: Int64] = [:], notReady = Set<String>()
        for subset in ep["subsets"]?.arrayValue ?? [] {
            let port = subset["ports"]?.arrayValue?.first?["port"]?.intValue ?? 0
            for a in subset["addresses"]?.arrayValue ?? [] {
                if let ip = a["ip"]?.stringValue, a[path: ["targetRef", "kind"]]?.stringValue == "Pod",
                   a["nodeName"]?.stringValue == "node-a" { ready[ip] = port }
            }
            for a in subset["notReadyAddresses"]?.arrayValue ?? [] { if let ip = a["ip"]?.stringValue { notReady.insert(ip) } }
        }
        return (ready, notReady)
    }

    /// The `web` slices' endpoints as IP -> (ready, port).
    static func slicesView(_ client: KubeRESTClient) async throws -> [String: (ready: Bool, port: Int64)] {
        let list = try await client.list(slices.path, query: ["labelSelector": "kubernetes.io/service-name=web"])
        var out: [String: (ready: Bool, port: Int64)] = [:]
        for slice in list["items"]?.arrayValue ?? [] {
            guard slice.labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io",
                  slice.name?.hasPrefix("web-") == true else { continue }
            let port = slice["ports"]?.arrayValue?.first?["port"]?.intValue ?? 0
            for ep in slice["endpoints"]?.arrayValue ?? [] {
                guard let ip = ep["addresses"]?.arrayValue?.first?.stringValue else { continue }
                out[ip] = (ep[path: ["conditions", "ready"]]?.boolValue == true, port)
            }
        }
        return out
    }

    func scenario(_ client: KubeRESTClient) async throws {
        // The API server's own Service and Endpoints.
        let kubernetes = try await client.get(Self.services.named("kubernetes").path)
        #expect(kubernetes[path: ["spec", "clusterIP"]]?.stringValue == "10.96.0.1")
        let kubeEndpoints = try await client.get(Self.endpoints.named("kubernetes").path)
        #expect(kubeEndpoints["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue?.first?["ip"] == "127.0.0.1")

        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
            "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
        ]
        let created = try await client.create(Self.services.path, service)
        #expect(created[path: ["spec", "clusterIP"]]?.stringValue?.hasPrefix("10.") == true)
        // Two pods whose named port resolves differently; a third never gets an IP.
        _ = try await client.create(Self.pods.path, Self.pod("web-1", port: 8080))
        _ = try await client.create(Self.pods.path, Self.pod("web-2", port: 9090))
        _ = try await client.create(Self.pods.path, Self.pod("web-3", port: 8080))
        try await Self.setStatus(client, "web-1", ip: "10.244.0.11", ready: true)
        try await Self.setStatus(client, "web-2", ip: "10.244.0.12", ready: true)

        let listed = try await eventually(timeout: .seconds(20)) {
            let view = try await Self.endpointsView(client)
            let slices = try await Self.slicesView(client)
            return view?.ready == ["10.244.0.11": 8080, "10.244.0.12": 9090] && view?.notReady.isEmpty == true
                && slices.count == 2 && slices["10.244.0.11"]?.port == 8080 && slices["10.244.0.12"]?.port == 9090
                && slices.values.allSatisfy(\.ready)
        }
        #expect(listed, "Endpoints and EndpointSlices list both ready pods with their resolved ports")

        // Not ready: moved to notReadyAddresses, ready=false in the slice.
        try await Self.setStatus(client, "web-2", ip: "10.244.0.12", ready: false)
        let moved = try await eventually(timeout: .seconds(20)) {
            let view = try await Self.endpointsView(client)
            let slices = try await Self.slicesView(client)
            return view?.ready == ["10.244.0.11": 8080] && view?.notReady == ["10.244.0.12"]
                && slices["10.244.0.12"]?.ready == false && slices["10.244.0.11"]?.ready == true
        }
        #expect(moved, "a pod that is not ready is listed as such")

        // Deleted: gone from both.
        _ = try await client.delete(Self.pods.named("web-1").path, options: ["apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0])
        let removed = try await eventually(timeout: .seconds(20)) {
            let view = try await Self.endpointsView(client)
            let slices = try await Self.slicesView(client)
            return view?.ready.isEmpty == true && view?.notReady == ["10.244.0.12"] && slices.count == 1 && slices["10.244.0.11"] == nil
        }
        #expect(removed, "a deleted pod leaves the Endpoints and the slice")

        // Deleting the Service takes its Endpoints and slices with it.
        _ = try await client.delete(Self.services.named("web").path)
        let cleaned = try await eventually(timeout: .seconds(20)) {
            let slices = try await client.list(Self.slices.path, query: ["labelSelector": "kubernetes.io/service-name=web"])
            return (try? await client.get(Self.endpoints.named("web").path)) == nil && (slices["items"]?.arrayValue ?? []).isEmpty
        }
        #expect(cleaned, "the Service's Endpoints and slices go with it")
    }
}
