import Foundation
import Synchronization
import Testing
@testable import Kubelet

@Suite struct RuncCommandTests {
    @Test func statusComesFromTheStateDocument() {
        #expect(RuncCommand.status(fromState: #"{"ociVersion":"1.0.2","id":"x","pid":42,"status":"created"}"#) == "created")
        #expect(RuncCommand.status(fromState: "container does not exist") == nil)
    }

    /// Answers the statuses in order, then the last one forever.
    final class Script: Sendable {
        let answers: Mutex<[String?]>
        init(_ answers: [String?]) { self.answers = Mutex(answers) }
        func next() -> String? { answers.withLock { $0.count > 1 ? $0.removeFirst() : $0.first ?? nil } }
        var left: Int { answers.withLock { $0.count } }
    }

    @Test func startWaitsThroughSetUpUntilTheCommandRuns() async {
        let script = Script([nil, "created", "created", "running", "stopped"])
        let last = await RuncCommand.waitUntilStarted(status: { script.next() }, exited: { false }, attempts: 100, pause: .zero)
        #expect(last == "running")
        #expect(script.left == 1)
    }

    @Test func startStopsWaitingWhenTheAttemptExitedOrAfterTheAttempts() async {
        let gone = Script([nil])
        #expect(await RuncCommand.waitUntilStarted(status: { gone.next() }, exited: { true }, attempts: 100, pause: .zero) == nil)
        let stuck = Script(["created"])
        #expect(await RuncCommand.waitUntilStarted(status: { stuck.next() }, exited: { false }, attempts: 3, pause: .zero) == "created")
    }
}
