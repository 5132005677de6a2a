import Foundation
import Logging
import Testing
@testable import APIServer
import KubeModel

@Suite struct EventExpiryTests {
    func event(_ name: String, last: Date) -> JSONValue {
        ["apiVersion": "v1", "kind": "Event", "metadata": ["name": .string(name)],
         "involvedObject": ["kind": "Pod", "name": "p", "namespace": "ns"], "reason": "Started", "message": "m",
         "type": "Normal", "count": 1, "firstTimestamp": .string(Timestamp.format(last)), "lastTimestamp": .string(Timestamp.format(last))]
    }

    func names(_ f: AdmissionFixture) async throws -> Set<String> {
        Set(try await f.registry.list(try f.strategy("events"), version: "v1", namespace: "ns", options: ListOptions()).items.compactMap(\.name))
    }

    @Test func eventsGoOnceTheirLastWriteIsOlderThanTheTTL() async throws {
        let f = try AdmissionFixture([])
        try await f.namespace("ns")
        let now = Date()
        try await f.create("events", "ns", event("once", last: now))
        let created = try await f.create("events", "ns", event("repeated", last: now)).object
        let expiry = EventExpiry(registry: f.registry, ttl: .seconds(3600), logger: Logger(label: "test"))
        #expect(await expiry.sweep(now: now.addingTimeInterval(1800)) == 0)

        // Seen again 50 minutes later: the repeat renews it.
        var bumped = created
        bumped["count"] = 2
        bumped["lastTimestamp"] = .string(Timestamp.format(now.addingTimeInterval(3000)))
        _ = try await f.registry.update(try f.strategy("events"), version: "v1", namespace: "ns", name: "repeated", body: bumped,
                                        target: .main, options: WriteOptions())
        #expect(await expiry.sweep(now: now.addingTimeInterval(4200)) == 1)
        #expect(try await names(f) == ["repeated"])
        #expect(await expiry.sweep(now: now.addingTimeInterval(7200)) == 1)
        #expect(try await names(f).isEmpty)

        #expect(expiry.interval == .seconds(60))
        #expect(EventExpiry(registry: f.registry, ttl: .seconds(100), logger: Logger(label: "test")).interval == .seconds(10))
    }
}
