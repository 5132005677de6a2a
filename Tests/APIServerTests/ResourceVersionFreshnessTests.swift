import Foundation
import Testing
@testable import APIServer
import KubeModel

/// A list or watch at a resourceVersion the store has not reached waits for it (another API
/// server may have written it), then answers 504 with the `ResourceVersionTooLarge` cause.
@Suite struct ResourceVersionFreshnessTests {
    static func configMaps(wait: Duration) async throws -> (Registry, any ResourceStrategy) {
        try await RegistryFixture.open(try SQLiteStore(path: nil, historySize: 1000), plural: "configmaps", revisionWait: wait)
    }

    static func options(_ rv: Int64, match: String? = nil) -> ListOptions {
        var o = ListOptions()
        o.resourceVersion = String(rv)
        o.resourceVersionMatch = match
        return o
    }

    @Test(arguments: [nil, "NotOlderThan", "Exact"]) func aListBeyondTheStoreIsA504(match: String?) async throws {
        let (registry, configMaps) = try await Self.configMaps(wait: .milliseconds(500))
        let current = try await registry.store.currentRevision()
        let started = ContinuousClock.now
        do {
            _ = try await registry.list(configMaps, version: "v1", namespace: "default", options: Self.options(current + 100, match: match))
            Issue.record("a list at a resourceVersion the store never reached succeeded")
        } catch {
            #expect(error.code == 504)
            #expect(error.reason == "Timeout")
            #expect(error.message == "Timeout: Too large resource version: \(current + 100), current: \(current)")
            #expect(error.details?[path: ["causes"]]?.arrayValue?.first?["reason"] == "ResourceVersionTooLarge")
            #expect(error.headers.contains { $0.0 == "Retry-After" && $0.1 == "1" })
        }
        #expect(ContinuousClock.now - started >= .milliseconds(500))
        // Nothing was written by the refused read.
        #expect(try await registry.store.currentRevision() == current)
    }

    @Test func aListWaitsForAWriteThatArrives() async throws {
        // A long wait: the write must land within it however loaded the machine is.
        let (registry, configMaps) = try await Self.configMaps(wait: .seconds(60))
        let current = try await registry.store.currentRevision()
        let writer = Task {
            try await Task.sleep(for: .milliseconds(300))
            _ = try await registry.create(configMaps, version: "v1", namespace: "default",
                                          body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "late"]], options: WriteOptions())
        }
        let list = try await registry.list(configMaps, version: "v1", namespace: "default", options: Self.options(current + 1))
        try await writer.value
        #expect(list.resourceVersion >= current + 1)
        #expect(list.items.compactMap(\.name) == ["late"])
    }

    @Test func aWatchBeyondTheStoreIsA504() async throws {
        let (registry, configMaps) = try await Self.configMaps(wait: .milliseconds(500))
        let current = try await registry.store.currentRevision()
        do {
            let (_, cancel) = try await registry.watch(configMaps, version: "v1", namespace: "default", options: Self.options(current + 50))
            cancel()
            Issue.record("a watch from a resourceVersion the store never reached started")
        } catch {
            #expect(error.code == 504)
            #expect(error.message.contains("Too large resource version: \(current + 50)"))
        }
        // One the store has is served at once.
        let (_, cancel) = try await registry.watch(configMaps, version: "v1", namespace: "default", options: Self.options(current))
        cancel()
    }
}
