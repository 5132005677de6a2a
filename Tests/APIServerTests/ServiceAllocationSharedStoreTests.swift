import Foundation
import Testing
@testable import APIServer
import KubeModel
import KubeTesting

/// Several API servers on one store: two registries, each with its own allocator bitmap,
/// share a real SQLite file's allocation records, so they never hand out one address or port
/// twice, see each other's frees, and repair the records at start.
@Suite struct ServiceAllocationSharedStoreTests {
    typealias T = ServiceAllocationTests
    /// Where a test's database lives; removed with its files when the test ends.
    let scratch = ScratchDirectory(prefix: "caravel-shared-alloc")

    struct Pair {
        var a: Registry
        var b: Registry
        var services: any ResourceStrategy
        var store: any Store
    }

    static func pair(path: String, range: ServiceIPRange = ServiceAllocations.defaultRange) async throws -> Pair {
        let store = try SQLiteStore(path: path, historySize: 1000)
        return try await pair(store, store, range: range)
    }

    /// Two registries, as two API servers: over one store, or over two connections to one etcd.
    static func pair(_ storeA: any Store, _ storeB: any Store, range: ServiceIPRange = ServiceAllocations.defaultRange) async throws -> Pair {
        let store = storeA
        let catalog = ResourceCatalog(BuiltinResources.all)
        let a = Registry(store: storeA, catalog: catalog, environment: ServerEnvironment(serviceAllocations: ServiceAllocations()))
        let b = Registry(store: storeB, catalog: catalog, environment: ServerEnvironment(serviceAllocations: ServiceAllocations()))
        for r in [a, b] { try await r.restoreServiceAllocations(range: range) }
        _ = try await a.create(a.namespaces, version: "v1", namespace: nil,
                               body: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "default"]], options: WriteOptions())
        guard let services = catalog.strategy(group: "", plural: "services") else { throw APIError.internalError("services must be served") }
        return Pair(a: a, b: b, services: services, store: store)
    }

    var path: String { scratch.path + "/store.db" }

    @Test func twoServersRacingNeverShareAValue() async throws {
        try await Self.race(try await Self.pair(path: path))
    }

    /// The same race between two API servers with their own connections to one etcd.
    @Test func twoServersOnOneEtcdNeverShareAValue() async throws {
        let etcd = try EtcdProcess.start()
        defer { etcd.stop() }
        let storeA = try await etcd.connect(historySize: 1000)
        let storeB = try await etcd.connect(historySize: 1000)
        defer {
            storeA.close()
            storeB.close()
        }
        try await Self.race(try await Self.pair(storeA, storeB))
    }

    static func race(_ p: Pair) async throws {
        let results = try await withThrowingTaskGroup(of: JSONValue.self) { group in
            for i in 0..<60 {
                let r = i % 2 == 0 ? p.a : p.b
                group.addTask { try await T.create(r, p.services, T.service("svc-\(i)", type: "NodePort")) }
            }
            return try await group.reduce(into: [JSONValue]()) { $0.append($1) }
        }
        #expect(Set(results.map(T.clusterIP)).count == 60)
        #expect(Set(results.map(T.nodePort)).count == 60)
        let records = AllocationRecords(store: p.store)
        #expect(try await records.all(.ip).count == 60)
        #expect(try await records.all(.nodePort).count == 60)

        // One requested address and one requested port, raced from both servers: one winner each.
        // They are chosen among the values the 60 random allocations above left free.
        let takenIPs = Set(results.map(T.clusterIP)), takenPorts = Set(results.map(T.nodePort))
        let ip = (1...250).lazy.map { "10.96.9.\($0)" }.first { !takenIPs.contains($0) } ?? "10.96.9.9"
        let port = (32000...32767).first { !takenPorts.contains(Int64($0)) }.map(Int64.init) ?? 32000
        let wins = await withTaskGroup(of: (Bool, Bool).self) { group in
            for i in 0..<10 {
                let r = i % 2 == 0 ? p.a : p.b
                group.addTask {
                    let ip = (try? await T.create(r, p.services, T.service("ip-\(i)", clusterIP: ip))) != nil
                    let port = (try? await T.create(r, p.services, T.service("port-\(i)", type: "NodePort", nodePort: port))) != nil
                    return (ip, port)
                }
            }
            return await group.reduce(into: (0, 0)) { acc, won in
                acc.0 += won.0 ? 1 : 0
                acc.1 += won.1 ? 1 : 0
            }
        }
        #expect(wins.0 == 1)
        #expect(wins.1 == 1)
    }

    @Test func aValueFreedOnOneServerIsTakenOnTheOther() async throws {
        let p = try await Self.pair(path: path)
        _ = try await T.create(p.b, p.services, T.service("held", type: "NodePort", clusterIP: "10.96.3.3", nodePort: 31500))
        do {
            try await T.create(p.a, p.services, T.service("dup", clusterIP: "10.96.3.3"))
            Issue.record("an address held through the other server must be refused")
        } catch {
            #expect(error.code == 422)
            #expect(error.message.contains("provided IP is already allocated"))
        }
        await #expect(throws: APIError.self) { try await T.create(p.a, p.services, T.service("dup", type: "NodePort", nodePort: 31500)) }
        try await T.delete(p.b, p.services, "held")
        let again = try await T.create(p.a, p.services, T.service("again", type: "NodePort", clusterIP: "10.96.3.3", nodePort: 31500))
        #expect(T.clusterIP(again) == "10.96.3.3")
        #expect(T.nodePort(again) == 31500)
    }

    @Test func aFullBitmapIsRebuiltFromTheRecords() async throws {
        // 10.0.0.0/29 hands out five addresses (.2 to .6).
        guard let small = ServiceIPRange(cidr: "10.0.0.0/29") else { Issue.record("valid CIDR"); return }
        let p = try await Self.pair(path: path, range: small)
        var held: [String: String] = [:]
        for i in 0..<5 {
            let o = try await T.create(i < 3 ? p.a : p.b, p.services, T.service("s\(i)"))
            held["s\(i)"] = T.clusterIP(o)
        }
        #expect(Set(held.values).count == 5)
        await #expect(throws: APIError.self) { try await T.create(p.a, p.services, T.service("full")) }
        try await T.delete(p.b, p.services, "s4")
        let o = try await T.create(p.a, p.services, T.service("refill"))
        #expect(T.clusterIP(o) == held["s4"])
    }

    @Test func startRepairsMissingAndOrphanedRecords() async throws {
        let p = try await Self.pair(path: path)
        let svc = try await T.create(p.a, p.services, T.service("legacy", type: "NodePort"))
        let records = AllocationRecords(store: p.store)
        // A store written before records existed: the Service holds values with no record.
        for r in try await records.all(.ip) + records.all(.nodePort) { await records.remove(r) }
        // A claim whose Service was never written, long ago, and one still in flight.
        let stray = AllocationRecords.Owner(namespace: "default", name: "gone", uid: "u1")
        let old = Date(timeIntervalSinceNow: -3600)
        _ = try await p.store.create(key: AllocationRecords.key(.ip, "10.96.4.4"), object: AllocationRecords.record(.ip, "10.96.4.4", owner: stray, now: old))
        _ = try await p.store.create(key: AllocationRecords.key(.ip, "10.96.4.5"), object: AllocationRecords.record(.ip, "10.96.4.5", owner: stray, now: Date()))

        try await p.b.restoreServiceAllocations(orphanGrace: 60)
        let ips = try await records.all(.ip).compactMap(\.object.name)
        #expect(Set(ips) == [T.clusterIP(svc), "10.96.4.5"])
        #expect(try await records.all(.nodePort).compactMap(\.object.name) == [String(T.nodePort(svc))])
        #expect(p.b.environment.serviceAllocations.isAllocated(ip: T.clusterIP(svc)))
        #expect(!p.b.environment.serviceAllocations.isAllocated(ip: "10.96.4.4"))
        await #expect(throws: APIError.self) { try await T.create(p.b, p.services, T.service("x", clusterIP: T.clusterIP(svc))) }
        _ = try await T.create(p.b, p.services, T.service("y", clusterIP: "10.96.4.4"))
    }
}
