import Foundation
import Logging
import Synchronization
import Testing
@testable import APIServer
import KubeModel

/// The `kubernetes` Service's endpoints follow the API servers' identity Leases in a real
/// SQLite store: every live server listed (one subset and slice per port), expired Leases
/// deleted and their servers dropped, a leaving server gone at once.
@Suite struct APIServerEndpointReconcilerTests {
    final class TestClock: Sendable {
        let now = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
        func read() -> Date { now.withLock { $0 } }
    }

    static func reconciler(_ store: any Store, _ clock: TestClock, address: String, port: Int) -> APIServerEndpointReconciler {
        APIServerEndpointReconciler(store: store, identity: APIServerIdentity(hostname: "node-a", address: address, port: port),
                                    leaseDuration: .seconds(15), clock: { clock.read() }, logger: Logger(label: "test"))
    }

    static func subsets(_ store: any Store) async throws -> [[String: [String]]] {
        let ep = try await store.get(key: KubernetesEndpoints.endpointsKey)?.object
        return (ep?["subsets"]?.arrayValue ?? []).map { subset in
            let port = subset["ports"]?.arrayValue?.first?["port"]?.intValue ?? 0
            return [String(port): (subset["addresses"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }]
        }
    }

    static func slices(_ store: any Store) async throws -> [String: [String]] {
        let page = try await store.list(prefix: KubernetesEndpoints.slicePrefix, startAfter: nil, limit: nil, atRevision: nil)
        var out: [String: [String]] = [:]
        for item in page.items {
            guard let name = item.object.name else { continue }
            out[name] = (item.object["endpoints"]?.arrayValue ?? []).compactMap { $0["addresses"]?.arrayValue?.first?.stringValue }
        }
        return out
    }

    static func leases(_ store: any Store) async throws -> [JSONValue] {
        try await store.list(prefix: APIServerIdentity.prefix, startAfter: nil, limit: nil, atRevision: nil).items.map(\.object)
    }

    @Test func endpointsFollowTheLiveLeases() async throws {
        let store = try SQLiteStore(path: nil, historySize: 1000)
        let clock = TestClock()
        let a = Self.reconciler(store, clock, address: "127.0.0.1", port: 6443)
        let b = Self.reconciler(store, clock, address: "10.0.0.5", port: 6443)
        let c = Self.reconciler(store, clock, address: "127.0.0.1", port: 7443)
        for r in [a, b, c] { try await r.reconcile() }
        try await a.reconcile()

        #expect(try await Self.subsets(store) == [["6443": ["10.0.0.5", "127.0.0.1"]], ["7443": ["127.0.0.1"]]])
        #expect(try await Self.slices(store) == ["kubernetes": ["10.0.0.5", "127.0.0.1"], "kubernetes-7443": ["127.0.0.1"]])
        let leases = try await Self.leases(store)
        #expect(leases.count == 3)
        for lease in leases {
            #expect(lease.name?.hasPrefix("apiserver-") == true)
            #expect(lease[path: ["metadata", "labels", "apiserver.kubernetes.io/identity"]] == "kube-apiserver")
            #expect(lease[path: ["spec", "holderIdentity"]]?.stringValue?.hasPrefix(lease.name ?? "-") == true)
        }
        #expect(Set(leases.compactMap(\.name)).count == 3, "servers on one host get distinct Leases")

        // b and c stop renewing (killed): past the lease duration a's round deletes them.
        clock.advance(10)
        try await a.reconcile()
        #expect(try await Self.leases(store).count == 3, "not expired yet")
        clock.advance(10)
        try await a.reconcile()
        #expect(try await Self.subsets(store) == [["6443": ["127.0.0.1"]]])
        #expect(try await Self.slices(store) == ["kubernetes": ["127.0.0.1"]])
        #expect(try await Self.leases(store).compactMap(\.name) == [a.identity.leaseName])

        // b comes back; then a leaves on a graceful stop and is gone at once.
        try await b.reconcile()
        #expect(try await Self.subsets(store) == [["6443": ["10.0.0.5", "127.0.0.1"]]])
        await a.leave()
        #expect(try await Self.subsets(store) == [["6443": ["10.0.0.5"]]])
        #expect(try await Self.leases(store).compactMap(\.name) == [b.identity.leaseName])
    }

    @Test func aRestartedServerKeepsItsLeaseName() {
        let first = APIServerIdentity(hostname: "node-a", address: "127.0.0.1", port: 6443)
        let again = APIServerIdentity(hostname: "node-a", address: "127.0.0.1", port: 6443)
        #expect(first.leaseName == again.leaseName)
        #expect(first.holder != again.holder)
        #expect(first.leaseName != APIServerIdentity(hostname: "node-a", address: "127.0.0.1", port: 6444).leaseName)
    }

    @Test func advertiseAddressDefaults() {
        #expect(APIServerIdentity.advertiseAddress(configured: nil, bindAddress: "0.0.0.0") == "127.0.0.1")
        #expect(APIServerIdentity.advertiseAddress(configured: nil, bindAddress: "127.0.0.1") == "127.0.0.1")
        #expect(APIServerIdentity.advertiseAddress(configured: nil, bindAddress: "192.168.1.4") == "192.168.1.4")
        #expect(APIServerIdentity.advertiseAddress(configured: "10.1.2.3", bindAddress: "0.0.0.0") == "10.1.2.3")
    }
}
