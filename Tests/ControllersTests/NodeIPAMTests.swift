import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Logging
import Testing
@testable import Controllers

@Suite struct NodeIPAMTests {
    static let nodes = ResourcePath.core("nodes")

    static func node(_ name: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)]]
    }

    static func cidrs(_ client: KubeRESTClient) async throws -> [String: String] {
        let items = try await client.list(nodes.path)["items"]?.arrayValue ?? []
        var out: [String: String] = [:]
        for n in items {
            if let name = n.name, let cidr = n[path: ["spec", "podCIDR"]]?.stringValue { out[name] = cidr }
        }
        return out
    }

    /// The controller manager with no election, until the returned task is cancelled.
    static func startManager(_ client: KubeRESTClient) -> Task<Void, Never> {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let manager = ControllerManager(client: client, options: .init(workers: 1, leaderElection: nil), logger: logger)
        return Task { try? await manager.run() }
    }

    @Test func rangeArithmetic() throws {
        let r = try #require(CIDRRange(cidr: "10.244.0.0/16", subnetMask: 24))
        #expect(r.count == 256)
        #expect(r.subnet(0) == "10.244.0.0/24")
        #expect(r.subnet(255) == "10.244.255.0/24")
        #expect(r.index(of: "10.244.17.0/24") == 17)
        #expect(r.index(of: "10.245.0.0/24") == nil)
        #expect(r.index(of: "10.244.1.0/25") == nil)
        #expect(r.index(of: "10.244.1.5/24") == nil)
        #expect(CIDRRange(cidr: "10.244.0.0/25", subnetMask: 24) == nil)
        #expect(CIDRRange(cidr: "bogus", subnetMask: 24) == nil)
    }

    @Test(.timeLimit(.minutes(5))) func distinctCIDRsKeptAcrossRestarts() async throws {
        try await withAPIServer { client, _ in
            var manager = Self.startManager(client)
            for name in ["a", "b", "c"] { _ = try await client.create(Self.nodes.path, Self.node(name)) }
            var assigned: [String: String] = [:]
            #expect(try await eventually { assigned = try await Self.cidrs(client); return assigned.count == 3 })
            #expect(Set(assigned.values) == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"])
            let node = try await client.get(Self.nodes.named("a").path)
            #expect(node[path: ["spec", "podCIDRs"]] == .array([.string(assigned["a"] ?? "")]))
            manager.cancel()
            await manager.value

            // While it is down: one node goes, two come. The new manager rebuilds what is in use
            // from the nodes, fills the hole first and leaves the others alone.
            let freed = assigned["b"] ?? ""
            try await client.delete(Self.nodes.named("b").path)
            for name in ["d", "e"] { _ = try await client.create(Self.nodes.path, Self.node(name)) }
            manager = Self.startManager(client)
            defer { manager.cancel() }
            var after: [String: String] = [:]
            #expect(try await eventually { after = try await Self.cidrs(client); return after.count == 4 })
            #expect(after["a"] == assigned["a"] && after["c"] == assigned["c"])
            #expect(Set(after.values).count == 4)
            #expect(Set([after["d"], after["e"]]) == Set([freed, "10.244.3.0/24"]))
        }
    }

    @Test(.timeLimit(.minutes(5))) func exhaustedRangeRecordsCIDRNotAvailable() async throws {
        try await withAPIServer { client, _ in
            let informer = Informer(source: RESTListWatch(client: client, resource: Self.nodes), options: .init())
            let running = Task { await informer.run() }
            defer { running.cancel() }
            #expect(await informer.waitForSync())
            let controller = NodeIPAMController(client: client, nodes: informer.cache, clusterCIDR: "10.250.0.0/23")
            informer.addHandler(controller.handler(enqueue: { _ in }))
            for name in ["n1", "n2", "n3"] {
                _ = try await client.create(Self.nodes.path, Self.node(name))
                #expect(await eventually { informer.cache.get(name) != nil })
            }
            #expect(try await controller.reconcile(key: "n1") == .done)
            #expect(try await controller.reconcile(key: "n2") == .done)
            #expect(await eventually { informer.cache.list().filter { !NodeIPAMController.cidrs(of: $0).isEmpty }.count == 2 })
            #expect(try await controller.reconcile(key: "n3") == .requeue(after: NodeIPAMController.exhaustedRetry))
            let events = try await client.list(ResourcePath.core("events", namespace: "default").path)["items"]?.arrayValue ?? []
            #expect(events.contains { $0["reason"] == "CIDRNotAvailable" && $0[path: ["involvedObject", "name"]] == "n3" })
            #expect(try await Self.cidrs(client).keys.sorted() == ["n1", "n2"])
        }
    }
}
