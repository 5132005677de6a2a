import KubeTesting
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// Proportional scaling and the progress deadline, as pure functions and against the real
/// API server (no pod ever becomes ready unless a test says so).
@Suite struct DeploymentProgressTests {
    static let deployments = DeploymentEndToEndTests.deployments
    static let replicaSets = DeploymentEndToEndTests.replicaSets
    let util = DeploymentEndToEndTests()

    func rs(_ name: String, _ replicas: Int, max: Int?, age: TimeInterval) -> ProportionalReplicaSet {
        ProportionalReplicaSet(name: name, replicas: replicas, maxReplicas: max, created: Date(timeIntervalSince1970: 1_000_000 - age))
    }

    @Test func proportionalScaleUpByCurrentSize() {
        // 10 -> 20 replicas (maxSurge 3) while old has 10 and new 3: 23 - 13 = 10 to add, by share.
        let sizes = DeploymentController.proportionalSizes(desired: 20, surge: 3, statusReplicas: 13,
                                                           replicaSets: [rs("old", 10, max: 13, age: 60), rs("new", 3, max: 13, age: 0)])
        #expect(sizes == ["old": 18, "new": 5])
    }

    @Test func proportionalScaleDownAndLeftovers() {
        // 10 -> 5 (surge 3): 8 allowed, 13 running; old -5 (rounded from 10*8/13), new -2, leftover 0.
        #expect(DeploymentController.proportionalSizes(desired: 5, surge: 3, statusReplicas: 13,
                                                       replicaSets: [rs("old", 10, max: 13, age: 60), rs("new", 3, max: 13, age: 0)])
                == ["old": 6, "new": 2])
        // Three equal ReplicaSets, 3 -> 4 replicas with no surge: each share rounds to 0 and
        // the leftover goes to the first in order, the newest of the equal-sized ones.
        #expect(DeploymentController.proportionalSizes(desired: 4, surge: 0, statusReplicas: 3,
                                                       replicaSets: [rs("a", 1, max: 3, age: 30), rs("b", 1, max: 3, age: 20),
                                                                     rs("c", 1, max: 3, age: 10)])
                == ["a": 1, "b": 1, "c": 2])
        // Without the annotation the Deployment's status.replicas is the base; to 0 empties all.
        #expect(DeploymentController.proportionalSizes(desired: 0, surge: 1, statusReplicas: 4,
                                                       replicaSets: [rs("old", 2, max: nil, age: 60), rs("new", 2, max: nil, age: 0)])
                == ["old": 0, "new": 0])
    }

    @Test func progressDeadlineTimesOutOnlyWithoutProgress() {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        var d: JSONValue = ["metadata": ["name": "web", "generation": 1],
                            "spec": ["replicas": 2, "progressDeadlineSeconds": 10, "selector": ["matchLabels": ["app": "web"]]]]
        let newRS: JSONValue = ["metadata": ["name": "web-abc"], "spec": ["replicas": 2], "status": ["replicas": 2]]
        func progressing(_ s: JSONValue) -> JSONValue? {
            s["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Progressing" }
        }
        var status = DeploymentController.status(of: d, newRS: newRS, olds: [], now: start, progressed: true)
        #expect(progressing(status)?["reason"] == "ReplicaSetUpdated")
        d["status"] = status
        // No progress, inside the deadline: nothing changes and a recheck is scheduled.
        status = DeploymentController.status(of: d, newRS: newRS, olds: [], now: start.addingTimeInterval(5))
        #expect(status == d["status"])
        #expect(DeploymentController.progressRecheck(d, status: status, now: start.addingTimeInterval(5)).requeueAfter != nil)
        // Past it: False, ProgressDeadlineExceeded, a new transition time.
        status = DeploymentController.status(of: d, newRS: newRS, olds: [], now: start.addingTimeInterval(11))
        let timedOut = progressing(status)
        #expect(timedOut?["status"] == "False")
        #expect(timedOut?["reason"] == "ProgressDeadlineExceeded")
        #expect(timedOut?["lastTransitionTime"] == .string(Timestamp.format(start.addingTimeInterval(11))))
        // A pod becoming available is progress again: True, both times now.
        d["status"] = status
        var better = newRS
        better[path: ["status", "availableReplicas"]] = 1
        better[path: ["status", "readyReplicas"]] = 1
        status = DeploymentController.status(of: d, newRS: better, olds: [], now: start.addingTimeInterval(12))
        #expect(progressing(status)?["reason"] == "ReplicaSetUpdated")
        #expect(progressing(status)?["lastTransitionTime"] == .string(Timestamp.format(start.addingTimeInterval(12))))
        // Progress while True moves lastUpdateTime only.
        d["status"] = status
        better[path: ["status", "availableReplicas"]] = 2
        status = DeploymentController.status(of: d, newRS: better, olds: [], now: start.addingTimeInterval(14))
        #expect(progressing(status)?["lastUpdateTime"] == .string(Timestamp.format(start.addingTimeInterval(14))))
        #expect(progressing(status)?["lastTransitionTime"] == .string(Timestamp.format(start.addingTimeInterval(12))))
    }

    @Test(.timeLimit(.minutes(5))) func stalledRolloutExceedsItsProgressDeadline() async throws {
        try await withControlPlane { client in
            let d = LeaderElectionEndToEndTests.deployment(replicas: 2, extraSpec: ["progressDeadlineSeconds": 2])
            _ = try await client.create(Self.deployments.path, d)
            var condition: JSONValue?
            let exceeded = try await eventually(timeout: .seconds(20)) {
                let d = try await client.get(Self.deployments.named("web").path)
                condition = d[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"]?.stringValue == "Progressing" }
                return condition?["reason"]?.stringValue == "ProgressDeadlineExceeded"
            }
            #expect(exceeded, "last Progressing condition: \(String(describing: condition))")
            #expect(condition?["status"] == "False")
            #expect(condition?["message"]?.stringValue?.hasSuffix("has timed out progressing.") == true)
        }
    }

    @Test(.timeLimit(.minutes(5))) func scalingDuringARolloutIsProportional() async throws {
        try await withControlPlane { client in
            let d = LeaderElectionEndToEndTests.deployment(
                replicas: 10, extraSpec: ["strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 3, "maxUnavailable": 0]]])
            _ = try await client.create(Self.deployments.path, d)
            let available = try await eventually(timeout: .seconds(30)) {
                try await util.markPodsReady(client)
                let d = try await client.get(Self.deployments.named("web").path)
                return d[path: ["status", "availableReplicas"]]?.intValue == 10
            }
            try #require(available)
            let oldRS = try #require(try await util.items(client, Self.replicaSets).first)

            // New image; its pods never become ready, so the rollout holds at 10 old + 3 new.
            let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "nginx:2"]]]]]]
            _ = try await client.patch(Self.deployments.named("web").path, patch, type: .strategicMerge)
            func sizes() async throws -> (old: Int?, new: Int?) {
                let rss = try await util.items(client, Self.replicaSets)
                return (rss.first { $0.uid == oldRS.uid }?[path: ["spec", "replicas"]]?.intValue.map(Int.init),
                        rss.first { $0.uid != oldRS.uid }?[path: ["spec", "replicas"]]?.intValue.map(Int.init))
            }
            let held = try await eventually(timeout: .seconds(20)) {
                let s = try await sizes()
                let d = try await client.get(Self.deployments.named("web").path)
                return s.old == 10 && s.new == 3 && d[path: ["status", "replicas"]]?.intValue == 13
            }
            try #require(held)

            _ = try await client.patch(Self.deployments.named("web").path, ["spec": ["replicas": 20]], type: .merge)
            let scaled = try await eventually(timeout: .seconds(20)) { try await sizes() == (18, 5) }
            let after = try await sizes()
            #expect(scaled, "sizes: \(after)")
            try await Task.sleep(for: .seconds(1))
            let later = try await sizes()
            #expect(later == (18, 5), "the rollout must not move without ready pods: \(later)")
        }
    }
}
