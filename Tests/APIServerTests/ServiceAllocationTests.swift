import Foundation
import Testing
@testable import APIServer
import KubeModel
import KubeTesting

/// Cluster IP and node port allocation in the registry, over a real SQLite store: requested
/// values honoured or refused with 422, released on delete, rebuilt after a restart, and
/// never handed out twice under concurrent creates.
@Suite struct ServiceAllocationTests {
    /// Where a test's database lives; removed with its files when the test ends.
    let scratch = ScratchDirectory(prefix: "caravel-alloc")

    static func open(_ path: String?) async throws -> (Registry, any ResourceStrategy) {
        let (registry, services) = try await RegistryFixture.open(try SQLiteStore(path: path, historySize: 1000), plural: "services")
        try await registry.restoreServiceAllocations()
        return (registry, services)
    }

    static func service(_ name: String, type: String = "ClusterIP", clusterIP: String? = nil, nodePort: Int64? = nil) -> JSONValue {
        var port: JSONValue = ["port": 80, "targetPort": 8080]
        if let nodePort { port["nodePort"] = .int(nodePort) }
        var spec: JSONValue = ["type": .string(type), "selector": ["app": "web"], "ports": [port]]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": spec]
    }

    @discardableResult
    static func create(_ r: Registry, _ s: any ResourceStrategy, _ body: JSONValue) async throws(APIError) -> JSONValue {
        try await r.create(s, version: "v1", namespace: "default", body: body, options: WriteOptions()).object
    }

    static func delete(_ r: Registry, _ s: any ResourceStrategy, _ name: String) async throws {
        _ = try await r.delete(s, version: "v1", namespace: "default", name: name, options: DeleteOptions())
    }

    static func clusterIP(_ o: JSONValue) -> String { o[path: ["spec", "clusterIP"]]?.stringValue ?? "" }
    static func nodePort(_ o: JSONValue) -> Int64 { o[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue ?? 0 }

    @Test func allocatesHonoursRequestsAndReleases() async throws {
        let (r, s) = try await Self.open(nil)
        let a = try await Self.create(r, s, Self.service("a"))
        let ip = Self.clusterIP(a)
        #expect(ServiceAllocations.defaultRange.offset(of: ip) != nil)
        #expect(ip != "10.96.0.1", "the first address is the kubernetes Service's")
        #expect(a[path: ["spec", "clusterIPs"]] == [.string(ip)])
        #expect(r.environment.serviceAllocations.isAllocated(ip: ip))

        // A requested free address is honoured; a taken one is refused.
        let b = try await Self.create(r, s, Self.service("b", clusterIP: "10.96.5.5"))
        #expect(Self.clusterIP(b) == "10.96.5.5")
        await #expect(throws: APIError.self) { try await Self.create(r, s, Self.service("c", clusterIP: "10.96.5.5")) }
        do {
            try await Self.create(r, s, Self.service("c", clusterIP: "10.96.5.5"))
        } catch {
            #expect(error.code == 422)
            #expect(error.message.contains("spec.clusterIPs: Invalid value: []string{\"10.96.5.5\"}: failed to allocate IP 10.96.5.5: provided IP is already allocated"))
        }
        do {
            try await Self.create(r, s, Self.service("c", clusterIP: "192.168.0.1"))
            Issue.record("an address outside the range must be refused")
        } catch {
            #expect(error.code == 422)
            #expect(error.message.contains("not in the valid range"))
        }

        // Headless and ExternalName Services get no address.
        let headless = try await Self.create(r, s, Self.service("h", clusterIP: "None"))
        #expect(Self.clusterIP(headless) == "None")
        let ext = try await Self.create(r, s, ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "ext"],
                                              "spec": ["type": "ExternalName", "externalName": "example.com"]])
        #expect(Self.clusterIP(ext) == "")
        #expect(r.environment.serviceAllocations.counts.ips == 2)

        // Deleting releases; the address can be requested again.
        try await Self.delete(r, s, "b")
        #expect(!r.environment.serviceAllocations.isAllocated(ip: "10.96.5.5"))
        let c = try await Self.create(r, s, Self.service("c", clusterIP: "10.96.5.5"))
        #expect(Self.clusterIP(c) == "10.96.5.5")

        // A failed create (name taken) gives its reservation back.
        let before = r.environment.serviceAllocations.counts.ips
        await #expect(throws: APIError.self) { try await Self.create(r, s, Self.service("a", clusterIP: "10.96.7.7")) }
        #expect(r.environment.serviceAllocations.counts.ips == before)
        #expect(!r.environment.serviceAllocations.isAllocated(ip: "10.96.7.7"))
    }

    @Test func nodePortsAllocateRefuseAndFollowTypeChanges() async throws {
        let (r, s) = try await Self.open(nil)
        let a = try await Self.create(r, s, Self.service("a", type: "NodePort"))
        let port = Self.nodePort(a)
        #expect((30000...32767).contains(port))
        #expect(r.environment.serviceAllocations.isAllocated(nodePort: Int(port)))

        _ = try await Self.create(r, s, Self.service("b", type: "NodePort", nodePort: 31000))
        do {
            try await Self.create(r, s, Self.service("c", type: "NodePort", nodePort: 31000))
            Issue.record("a taken node port must be refused")
        } catch {
            #expect(error.code == 422)
            #expect(error.message.contains("spec.ports[0].nodePort: Invalid value: 31000: provided port is already allocated"))
        }

        // NodePort -> ClusterIP gives the port back; ClusterIP -> NodePort takes one.
        let toClusterIP = try await r.guaranteedUpdate(s, version: "v1", namespace: "default", name: "b", target: .main,
                                                       options: WriteOptions()) { cur in
            var o = cur
            o[path: ["spec", "type"]] = "ClusterIP"
            return o
        }
        #expect(Self.nodePort(toClusterIP.object) == 0)
        #expect(!r.environment.serviceAllocations.isAllocated(nodePort: 31000))
        let toNodePort = try await r.guaranteedUpdate(s, version: "v1", namespace: "default", name: "b", target: .main,
                                                      options: WriteOptions()) { cur in
            var o = cur
            o[path: ["spec", "type"]] = "NodePort"
            return o
        }
        let newPort = Self.nodePort(toNodePort.object)
        #expect((30000...32767).contains(newPort))
        #expect(r.environment.serviceAllocations.isAllocated(nodePort: Int(newPort)))

        try await Self.delete(r, s, "a")
        #expect(!r.environment.serviceAllocations.isAllocated(nodePort: Int(port)))
        #expect(r.environment.serviceAllocations.counts.ports == 1)
    }

    @Test func restartRebuildsFromTheStore() async throws {
        let path = scratch.path + "/store.db"
        var held: Set<String> = []
        var ports: Set<Int64> = []
        do {
            let (r, s) = try await Self.open(path)
            for i in 0..<20 {
                let o = try await Self.create(r, s, Self.service("svc-\(i)", type: "NodePort"))
                held.insert(Self.clusterIP(o))
                ports.insert(Self.nodePort(o))
            }
        }
        let (r, s) = try await Self.open(path)
        #expect(r.environment.serviceAllocations.counts.ips == 20 && r.environment.serviceAllocations.counts.ports == 20)
        for ip in held { #expect(r.environment.serviceAllocations.isAllocated(ip: ip)) }
        for i in 0..<50 {
            let o = try await Self.create(r, s, Self.service("after-\(i)", type: "NodePort"))
            #expect(!held.contains(Self.clusterIP(o)))
            #expect(!ports.contains(Self.nodePort(o)))
        }
        if let taken = held.first {
            await #expect(throws: APIError.self) { try await Self.create(r, s, Self.service("dup", clusterIP: taken)) }
        }
    }

    @Test func concurrentCreatesGetDistinctValues() async throws {
        let (r, s) = try await Self.open(nil)
        let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for i in 0..<100 {
                group.addTask { try await Self.create(r, s, Self.service("svc-\(i)", type: "NodePort")) }
            }
            return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
        }
        #expect(Set(results.map(Self.clusterIP)).count == 100)
        #expect(Set(results.map(Self.nodePort)).count == 100)
        #expect(r.environment.serviceAllocations.counts.ips == 100 && r.environment.serviceAllocations.counts.ports == 100)

        // Racing for one requested address: exactly one wins.
        let wins = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<20 {
                group.addTask { (try? await Self.create(r, s, Self.service("race-\(i)", clusterIP: "10.96.9.9"))) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
    }

    @Test func rangesParseAndExhaust() {
        #expect(ServiceIPRange(cidr: "10.96.0.0/12") == ServiceAllocations.defaultRange)
        #expect(ServiceIPRange(cidr: "10.96.0.0/12")?.firstAddress == "10.96.0.1")
        #expect(ServiceIPRange(cidr: "not-a-cidr") == nil)
        #expect(ServiceIPRange(cidr: "10.0.0.0/40") == nil)
        guard let small = ServiceIPRange(cidr: "10.0.0.0/29") else { Issue.record("valid CIDR"); return }
        var ips = ServiceIPAllocator(range: small)
        // 8 addresses: network, broadcast and .1 are never handed out.
        let got = (0..<6).compactMap { _ in ips.allocateNext() }
        #expect(Set(got) == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        #expect(ips.allocate("10.0.0.1") == .allocated)
        #expect(ips.allocate("10.0.0.7") == .outOfRange)
        var ports = NodePortAllocator(range: 30000...30002)
        #expect((0..<4).compactMap { _ in ports.allocateNext() }.count == 3)
        ports.release(30001)
        #expect(ports.allocateNext() == 30001)
    }

    @Test func aFreeOffsetIsFoundPastFullWords() {
        for free in [0, 63, 64, 129, 199] {
            var bitmap = AllocationBitmap(size: 200)
            for i in 0..<200 where i != free { _ = bitmap.allocate(i) }
            #expect(bitmap.allocateNext(in: 0..<200) == free)
            #expect(bitmap.allocateNext(in: 0..<200) == nil)
            #expect(bitmap.count == 200)
        }
        var partial = AllocationBitmap(size: 200)
        for i in 0..<200 where i != 10 && i != 150 { _ = partial.allocate(i) }
        // 10 is free but outside the candidates.
        #expect(partial.allocateNext(in: 100..<200) == 150)
        #expect(partial.allocateNext(in: 100..<200) == nil)
    }
}
