import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Testing
@testable import Controllers

/// Two controller managers against one real API server: only the Lease holder acts, the other
/// takes over when the leader dies, and a manager restarted mid-rollout finishes it.
@Suite struct LeaderElectionEndToEndTests {
    static let lease = ResourcePath(group: "coordination.k8s.io", version: "v1", plural: "leases", namespace: "kube-system")
        .named("caravel-controller-manager")
    static let deployments = DeploymentEndToEndTests.deployments
    static let replicaSets = DeploymentEndToEndTests.replicaSets
    static let pods = DeploymentEndToEndTests.pods
    let util = DeploymentEndToEndTests()

    /// A controller manager with its own client (controller-manager certificate, user agent
    /// `agent`, hence field manager `agent`), running until its task is cancelled.
    struct Manager {
        let client: KubeRESTClient
        let task: Task<Void, Never>

        init(_ config: APIServerConfiguration, agent: String, election: LeaderElectionConfiguration) throws {
            let client = try KubeRESTClient(kubeconfigPath: config.controllerManagerKubeconfigPath,
                                            options: .init(userAgent: "\(agent)/test"))
            let manager = ControllerManager(client: client, options: .init(workers: 2, leaderElection: election))
            self.client = client
            self.task = Task { try? await manager.run() }
        }

        /// Stops it as a kill or a graceful shutdown would (per its `releaseOnCancel`).
        func stop() async {
            task.cancel()
            await task.value
            try? await client.shutdown()
        }
    }

    func holder(_ client: KubeRESTClient) async -> String? {
        try? await client.get(Self.lease.path)[path: ["spec", "holderIdentity"]]?.stringValue
    }

    /// Every field manager recorded on the objects the controllers write.
    func managers(_ client: KubeRESTClient) async throws -> Set<String> {
        var objects = try await util.items(client, Self.replicaSets) + util.items(client, Self.pods)
        objects.append(try await client.get(Self.deployments.named("web").path))
        return Set(objects.flatMap { ($0[path: ["metadata", "managedFields"]]?.arrayValue ?? []).compactMap { $0["manager"]?.stringValue } })
    }

    static func deployment(replicas: Int, extraSpec: [String: JSONValue] = [:]) -> JSONValue {
        var d: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web"],
            "spec": [
                "replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": "web"]],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]],
                "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "web", "image": "nginx:1"]]]],
            ],
        ]
        for (k, v) in extraSpec { d[path: ["spec", k]] = v }
        return d
    }

    @Test(.timeLimit(.minutes(5))) func onlyTheLeaderActsAndTheFollowerTakesOverWhenItDies() async throws {
        try await withAPIServer { admin, config in
            // a dies without releasing the lease (a kill), so b must wait for it to expire.
            let a = try Manager(config, agent: "manager-a", election: .testing(identity: "a", releaseOnCancel: false))
            #expect(await eventually(timeout: .seconds(20)) { await holder(admin) == "a" })
            let b = try Manager(config, agent: "manager-b", election: .testing(identity: "b"))

            _ = try await admin.create(Self.deployments.path, Self.deployment(replicas: 2))
            let created = try await eventually(timeout: .seconds(20)) {
                let rss = try await util.items(admin, Self.replicaSets), pods = try await util.items(admin, Self.pods)
                return rss.count == 1 && pods.count == 2
            }
            try #require(created)
            try await Task.sleep(for: .milliseconds(500))
            let before = try await managers(admin)
            #expect(before.contains("manager-a"))
            #expect(!before.contains("manager-b"), "the follower wrote: \(before)")
            #expect(await holder(admin) == "a")

            let killed = ContinuousClock.now
            await a.stop()
            // b takes over once the 8 s lease has expired by its clock; the bound is generous
            // because wall-clock limits in tests flake on a loaded machine (timings belong in
            // benchmarks), but a follower that ignored the lease would be caught below.
            #expect(await eventually(timeout: .seconds(10)) { await holder(admin) == "b" })
            let takeover = ContinuousClock.now - killed
            #expect(takeover >= .seconds(1), "took over after \(takeover): before the 8 s lease could have expired")

            _ = try await admin.patch(Self.deployments.named("web").path, ["spec": ["replicas": 4]], type: .merge)
            let scaled = try await eventually(timeout: .seconds(20)) {
                let rss = try await util.items(admin, Self.replicaSets)
                let pods = try await util.items(admin, Self.pods)
                return rss.count == 1 && rss.first?[path: ["spec", "replicas"]]?.intValue == 4 && pods.count == 4
            }
            #expect(scaled)
            #expect(try await managers(admin).contains("manager-b"))
            let lease = try await admin.get(Self.lease.path)
            #expect(lease[path: ["spec", "leaseTransitions"]]?.intValue == 1)
            await b.stop()
            #expect(await holder(admin) == "", "a graceful stop releases the lease")
        }
    }

    @Test(.timeLimit(.minutes(5))) func aManagerRestartedMidRolloutFinishesIt() async throws {
        try await withAPIServer { admin, config in
            let first = try Manager(config, agent: "manager-1", election: .testing(identity: "one"))
            _ = try await admin.create(Self.deployments.path, Self.deployment(replicas: 3))
            let available = try await eventually(timeout: .seconds(20)) {
                try await util.markPodsReady(admin)
                let d = try await admin.get(Self.deployments.named("web").path)
                return d[path: ["status", "availableReplicas"]]?.intValue == 3
            }
            try #require(available)
            let oldRS = try #require(try await util.items(admin, Self.replicaSets).first)

            // New image; no pod becomes ready, so the rollout stalls after its first surge pod.
            let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "nginx:2"]]]]]]
            _ = try await admin.patch(Self.deployments.named("web").path, patch, type: .strategicMerge)
            var maxPods = 0
            let midway = try await eventually(timeout: .seconds(20)) {
                let pods = try await util.items(admin, Self.pods).filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
                maxPods = max(maxPods, pods.count)
                return try await util.items(admin, Self.replicaSets).contains { $0.uid != oldRS.uid && $0[path: ["spec", "replicas"]]?.intValue == 1 }
            }
            try #require(midway)
            await first.stop()

            let second = try Manager(config, agent: "manager-2", election: .testing(identity: "two"))
            let rolled = try await eventually(timeout: .seconds(60)) {
                let pods = try await util.items(admin, Self.pods).filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
                maxPods = max(maxPods, pods.count)
                try await util.markPodsReady(admin, pods: pods)
                let rss = try await util.items(admin, Self.replicaSets)
                let d = try await admin.get(Self.deployments.named("web").path)
                return rss.count == 2
                    && rss.contains { $0.uid == oldRS.uid && $0[path: ["spec", "replicas"]]?.intValue == 0 && $0[path: ["status", "replicas"]]?.intValue == 0 }
                    && rss.contains { $0.uid != oldRS.uid && $0[path: ["status", "availableReplicas"]]?.intValue == 3 }
                    && d[path: ["status", "updatedReplicas"]]?.intValue == 3 && d[path: ["status", "availableReplicas"]]?.intValue == 3
                    && pods.count == 3
                    && pods.allSatisfy { $0[path: ["spec", "containers"]]?.arrayValue?.first?["image"] == "nginx:2" }
            }
            #expect(rolled)
            #expect(maxPods <= 4, "observed \(maxPods) pods at once, more than replicas + maxSurge")
            #expect(await holder(admin) == "two")
            await second.stop()
        }
    }
}
