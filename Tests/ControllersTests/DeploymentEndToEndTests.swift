import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle
import Testing
@testable import Controllers

/// The real API server in-process on a free port, the ControllerManager against it over HTTP,
/// and the test acting as the node that makes pods Running and Ready.
@Suite struct DeploymentEndToEndTests {
    static let deployments = ResourcePath(group: "apps", version: "v1", plural: "deployments", namespace: "default")
    static let replicaSets = ResourcePath(group: "apps", version: "v1", plural: "replicasets", namespace: "default")
    static let pods = ResourcePath.core("pods", namespace: "default")

    @Test(.timeLimit(.minutes(5))) func deploymentRollsOutAndUpdatesWithinSurge() async throws {
        try await withControlPlane(scenario)
    }

    func scenario(_ client: KubeRESTClient) async throws {
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "web"],
            "spec": [
                "replicas": 3,
                "selector": ["matchLabels": ["app": "web"]],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxSurge": 1, "maxUnavailable": 0]],
                "template": [
                    "metadata": ["labels": ["app": "web"]],
                    "spec": ["containers": [["name": "web", "image": "nginx:1"]]],
                ],
            ],
        ]
        _ = try await client.create(Self.deployments.path, deployment)

        // A ReplicaSet and three pods it controls appear.
        var firstRS: JSONValue?
        let created = try await eventually(timeout: .seconds(20)) {
            let rss = try await items(client, Self.replicaSets)
            let pods = try await items(client, Self.pods)
            guard rss.count == 1, let rs = rss.first, pods.count == 3 else { return false }
            firstRS = rs
            return pods.allSatisfy { pod in
                let refs = pod[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
                return refs.count == 1 && refs[0]["uid"] == rs[path: ["metadata", "uid"]]
                    && refs[0]["controller"]?.boolValue == true && refs[0]["blockOwnerDeletion"]?.boolValue == true
            }
        }
        try #require(created)
        let oldRS = try #require(firstRS)
        #expect(oldRS.name?.hasPrefix("web-") == true)
        #expect(oldRS.annotations["deployment.kubernetes.io/revision"] == "1")

        // Acting as the node: pods become Running and Ready; the Deployment becomes available.
        let available = try await eventually(timeout: .seconds(20)) {
            try await markPodsReady(client)
            let d = try await client.get(Self.deployments.named("web").path)
            return d[path: ["status", "availableReplicas"]]?.intValue == 3
        }
        try #require(available)

        // New image: a second ReplicaSet; the rollout never runs more than 3 + 1 pods.
        let patch: JSONValue = ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "nginx:2"]]]]]]
        _ = try await client.patch(Self.deployments.named("web").path, patch, type: .strategicMerge)
        var maxPods = 0
        var sawSecondRS = false
        let rolled = try await eventually(timeout: .seconds(60)) {
            let pods = try await items(client, Self.pods).filter { $0[path: ["metadata", "deletionTimestamp"]] == nil }
            maxPods = max(maxPods, pods.count)
            try await markPodsReady(client, pods: pods)
            let rss = try await items(client, Self.replicaSets)
            if rss.count == 2 { sawSecondRS = true }
            guard let old = rss.first(where: { $0.uid == oldRS.uid }),
                  let new = rss.first(where: { $0.uid != oldRS.uid }) else { return false }
            let d = try await client.get(Self.deployments.named("web").path)
            let progressing = (d[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"] == "Progressing" }
            return old[path: ["spec", "replicas"]]?.intValue == 0 && old[path: ["status", "replicas"]]?.intValue == 0
                && new[path: ["status", "availableReplicas"]]?.intValue == 3
                && new.annotations["deployment.kubernetes.io/revision"] == "2"
                && d[path: ["status", "updatedReplicas"]]?.intValue == 3
                && d[path: ["status", "replicas"]]?.intValue == 3
                && d[path: ["status", "availableReplicas"]]?.intValue == 3
                && d[path: ["status", "observedGeneration"]] == d[path: ["metadata", "generation"]]
                && progressing?["reason"]?.stringValue == "NewReplicaSetAvailable"
                && pods.count == 3
                && pods.allSatisfy { $0[path: ["spec", "containers"]]?.arrayValue?.first?["image"] == "nginx:2" }
        }
        #expect(rolled)
        #expect(sawSecondRS)
        #expect(maxPods <= 4, "observed \(maxPods) pods at once, more than replicas + maxSurge")
    }

    func items(_ client: KubeRESTClient, _ resource: ResourcePath) async throws -> [JSONValue] {
        try await client.list(resource.path)["items"]?.arrayValue ?? []
    }

    /// Writes Running + Ready through `/status` for every pod that is not Ready yet.
    func markPodsReady(_ client: KubeRESTClient, pods: [JSONValue]? = nil) async throws {
        let list: [JSONValue]
        if let pods { list = pods } else { list = try await items(client, Self.pods) }
        for pod in list where !ObjectRules.isReady(pod) {
            var path = Self.pods.named(pod.name ?? "")
            path.subresource = "status"
            let now = JSONValue.string(Timestamp.now())
            let status: JSONValue = ["status": [
                "phase": "Running",
                "conditions": [["type": "Ready", "status": "True", "lastTransitionTime": now]],
            ]]
            do { _ = try await client.patch(path.path, status, type: .merge) } catch let e as KubeAPIError where e.isNotFound {}
        }
    }
}
