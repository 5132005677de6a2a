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

    @Test(.timeLimit(.minutes(2))) func deploymentRollsOutAndUpdatesWithinSurge() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("caravel-cm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freePort()
        let logger: Logger = {
            var l = Logger(label: "test")
            l.logLevel = .warning
            return l
        }()
        let config = APIServerConfiguration(dataDirectory: dir, port: port, bookmarkInterval: .seconds(1))
        let app = try await APIServerBuilder.build(config, strategies: BuiltinResources.all, logger: logger)
        let client = try KubeRESTClient(kubeconfigPath: config.kubeconfigPath)
        // Listed after the server, the controllers stop first; until the server listens, their
        // informers just retry.
        let manager = ControllerManager(client: client, options: .init(workers: 2), logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app, manager], logger: logger))

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let ready = await eventually(timeout: .seconds(20)) { (try? await client.raw("GET", "/readyz")) != nil }
            try #require(ready)
            try await scenario(client)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
        try await client.shutdown()
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

    /// A TCP port nobody listens on right now.
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
