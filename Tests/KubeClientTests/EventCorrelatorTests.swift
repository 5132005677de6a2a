import Foundation
import KubeModel
import KubeTesting
import NIOConcurrencyHelpers
import Testing
@testable import KubeClient

/// Repeated events become count bumps, many similar ones one combined event, and a flood of
/// one event is cut to its burst, as client-go's recorder does; time comes from a fake clock.
@Suite struct EventCorrelatorTests {
    final class FakeTime: Sendable {
        private let value = NIOLockedValueBox(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { value.withLockedValue { $0 } }
        func advance(_ seconds: TimeInterval) { value.withLockedValue { $0 += seconds } }
    }

    let pod: JSONValue = ["metadata": ["name": "web-1", "namespace": "default", "uid": "u-1"]]

    func recorder(_ client: RecordingClient, _ correlator: EventCorrelator) -> EventRecorder {
        EventRecorder(client: client, component: "kubelet", host: "node-a", correlator: correlator)
    }

    func events(_ client: RecordingClient) -> [ClientAction] { client.actions(on: "events") }

    @Test func anExactRepeatBumpsTheCountOfTheFirstEvent() async throws {
        let client = RecordingClient()
        let time = FakeTime()
        let rec = recorder(client, EventCorrelator(now: { time.now }))
        for _ in 0..<3 {
            await rec.record(pod, apiVersion: "v1", kind: "Pod", type: "Warning", reason: "BackOff", message: "Back-off restarting failed container")
            time.advance(10)
        }
        let actions = events(client)
        #expect(actions.map(\.verb) == ["create", "patch", "patch"])
        #expect(actions[2].object?["count"]?.intValue == 3)
        let stored = try await client.list(ResourcePath.core("events", namespace: "default").path)
        #expect(stored["items"]?.arrayValue?.count == 1)
        #expect(stored["items"]?.arrayValue?.first?["count"]?.intValue == 3)
    }

    @Test func aRepeatAfterTheWindowStartsANewEvent() async throws {
        let client = RecordingClient()
        let time = FakeTime()
        let rec = recorder(client, EventCorrelator(now: { time.now }))
        await rec.record(pod, apiVersion: "v1", kind: "Pod", reason: "Pulled", message: "image present")
        time.advance(601)
        await rec.record(pod, apiVersion: "v1", kind: "Pod", reason: "Pulled", message: "image present")
        #expect(events(client).map(\.verb) == ["create", "create"])
    }

    @Test func manySimilarMessagesAreCombinedIntoOneEvent() async throws {
        let client = RecordingClient()
        let time = FakeTime()
        let rec = recorder(client, EventCorrelator(now: { time.now }))
        for i in 0..<14 {
            await rec.record(pod, apiVersion: "v1", kind: "Pod", type: "Warning", reason: "Unhealthy", message: "probe failed: attempt \(i)")
            time.advance(1)
        }
        let actions = events(client)
        // Nine distinct events, then the tenth starts the combined one and the rest bump it.
        #expect(actions.filter { $0.verb == "create" }.count == 10)
        #expect(actions.filter { $0.verb == "patch" }.count == 4)
        #expect(actions[9].object?["message"]?.stringValue == "(combined from similar events): probe failed: attempt 9")
        #expect(actions.last?.object?["message"]?.stringValue == "(combined from similar events): probe failed: attempt 13")
        #expect(actions.last?.object?["count"]?.intValue == 5)
    }

    /// Thousands of objects each with their own events within the window (pods created and
    /// deleted in a loop) keep the tables at their bound, the newest entries kept.
    @Test func manyObjectsKeepTheTablesBounded() {
        let time = FakeTime()
        let correlator = EventCorrelator(now: { time.now })
        for i in 0..<20_000 {
            let decision = correlator.correlate(object: "pod-\(i)", type: "Normal", reason: "Scheduled", message: "assigned")
            if case .create(_, let key) = decision { correlator.remember(key, name: "pod-\(i).1") }
            time.advance(0.01)
        }
        let sizes = correlator.sizes
        for size in [sizes.seen, sizes.similar, sizes.buckets] { #expect(size <= EventCorrelator.sweepAbove && size > 0) }
        // The newest object is still remembered: its repeat is a bump.
        #expect(correlator.correlate(object: "pod-19999", type: "Normal", reason: "Scheduled", message: "assigned")
                == .bump(name: "pod-19999.1", count: 2, message: "assigned", key: ["pod-19999", "Normal", "Scheduled", "assigned"].joined(separator: "\u{0}")))
    }

    @Test func aFloodOfOneEventIsCutToItsBurstAndRefills() {
        let time = FakeTime()
        let correlator = EventCorrelator(burst: 25, refill: 300, now: { time.now })
        var written = 0
        for _ in 0..<40 where correlator.correlate(object: "o", type: "Normal", reason: "R", message: "m") != .drop { written += 1 }
        #expect(written == 25)
        time.advance(300)
        #expect(correlator.correlate(object: "o", type: "Normal", reason: "R", message: "m") != .drop)
        #expect(correlator.correlate(object: "o", type: "Normal", reason: "R", message: "m") == .drop)
        // Another object has its own budget.
        #expect(correlator.correlate(object: "p", type: "Normal", reason: "R", message: "m") != .drop)
    }

    /// The budget is the object's, whatever the reason or message: a ReplicaSet creating 40
    /// pods records 25 events about it (nine, then the combined one bumped), then nothing
    /// until the bucket refills.
    @Test func manyDifferentEventsAboutOneObjectShareItsBurst() async throws {
        let client = RecordingClient()
        let time = FakeTime()
        let rec = EventRecorder(client: client, component: "replicaset-controller", correlator: EventCorrelator(now: { time.now }))
        let rs: JSONValue = ["metadata": ["name": "web", "namespace": "default", "uid": "u-rs"]]
        for i in 0..<40 {
            await rec.record(rs, apiVersion: "apps/v1", kind: "ReplicaSet", reason: "SuccessfulCreate", message: "Created pod: web-\(i)")
        }
        var actions = events(client)
        #expect(actions.filter { $0.verb == "create" }.count == 10)
        #expect(actions.filter { $0.verb == "patch" }.count == 15)
        await rec.record(rs, apiVersion: "apps/v1", kind: "ReplicaSet", type: "Warning", reason: "FailedCreate", message: "quota")
        #expect(events(client).count == 25, "another reason draws on the same budget")
        time.advance(300)
        await rec.record(rs, apiVersion: "apps/v1", kind: "ReplicaSet", type: "Warning", reason: "FailedCreate", message: "quota")
        actions = events(client)
        #expect(actions.count == 26)
        #expect(actions.last?.object?["reason"]?.stringValue == "FailedCreate")
    }

    @Test func anEventDeletedMeanwhileIsCreatedAgain() async throws {
        let client = RecordingClient()
        let time = FakeTime()
        let rec = recorder(client, EventCorrelator(now: { time.now }))
        await rec.record(pod, apiVersion: "v1", kind: "Pod", reason: "Started", message: "Started container app")
        let stored = try await client.list(ResourcePath.core("events", namespace: "default").path)
        let name = try #require(stored["items"]?.arrayValue?.first?.name)
        try await client.delete(ResourcePath.core("events", namespace: "default").named(name).path)
        await rec.record(pod, apiVersion: "v1", kind: "Pod", reason: "Started", message: "Started container app")
        await rec.record(pod, apiVersion: "v1", kind: "Pod", reason: "Started", message: "Started container app")
        let verbs = events(client).map(\.verb)
        #expect(verbs == ["create", "list", "delete", "patch", "create", "patch"])
    }
}
