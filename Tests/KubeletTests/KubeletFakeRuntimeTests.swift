import KubeTesting
import APIServer
import Foundation
import KubeClient
import KubeModel
import Logging
import Testing
@testable import Kubelet

/// The pod workers against a real in-process API server, with the fake runtime so the
/// lifecycle (start, status, restart policy, graceful deletion) is checked without processes.
@Suite struct KubeletFakeRuntimeTests {
    static func pod(_ name: String, node: String, restartPolicy: String = "Always", initContainer: Bool = false) -> JSONValue {
        var spec: JSONValue = [
            "nodeName": .string(node), "restartPolicy": .string(restartPolicy), "terminationGracePeriodSeconds": 1,
            "containers": [["name": "app", "image": "busybox", "env": [["name": "ME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]]]],
        ]
        if initContainer { spec["initContainers"] = [["name": "setup", "image": "busybox"]] }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }

    func withKubelet(_ body: (KubeRESTClient, FakeRuntime) async throws -> Void) async throws {
        try await withInProcessAPIServer { client, _ in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("kubelet-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            var logger = Logger(label: "kubelet-test")
            logger.logLevel = .warning
            let runtime = FakeRuntime()
            let kubelet = Kubelet(config: .init(nodeName: "fake-a", rootDirectory: root, serverPort: nil, syncInterval: .milliseconds(200)),
                                  client: client, runtime: runtime, network: nil, clientCA: nil, logger: logger)
            let task = Task { try await kubelet.run() }
            defer { task.cancel() }
            let registered = await eventually { (try? await client.get("/api/v1/nodes/fake-a")) != nil }
            try #require(registered)
            try await body(client, runtime)
            task.cancel()
            _ = await task.result
            // A stopped kubelet closes what its runtime holds open (the OCI runtime's registry clients).
            #expect(await runtime.isShutDown)
        }
    }

    static func podStatus(_ client: KubeRESTClient, _ name: String) async -> JSONValue? {
        try? await client.get("/api/v1/namespaces/default/pods/\(name)")
    }

    @Test func aKubeletThatCannotMakeItsRootShutsItsRuntimeDown() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kubelet-file-\(UUID().uuidString)").path
        try Data().write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let runtime = FakeRuntime()
        let client = try KubeRESTClient(connection: ClusterConnection(server: "https://127.0.0.1:1"))
        // The root would be a directory inside a regular file.
        let kubelet = Kubelet(config: .init(nodeName: "fake-a", rootDirectory: file + "/root", serverPort: nil),
                              client: client, runtime: runtime, network: nil, clientCA: nil, logger: Logger(label: "kubelet-test"))
        await #expect(throws: (any Error).self) { try await kubelet.run() }
        #expect(await runtime.isShutDown)
        try await client.shutdown()
    }

    @Test func podRunsAndBecomesReady() async throws {
        try await withKubelet { client, _ in
            _ = try await client.create("/api/v1/namespaces/default/pods", Self.pod("web", node: "fake-a", initContainer: true))
            let ready = await eventually {
                let p = await Self.podStatus(client, "web")
                return p?[path: ["status", "phase"]] == "Running"
                    && (p?[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
            }
            #expect(ready)
            let p = await Self.podStatus(client, "web")
            #expect(p?[path: ["status", "podIP"]]?.stringValue?.hasPrefix("10.244.") == true)
            #expect(p?[path: ["status", "initContainerStatuses"]]?.arrayValue?.first?[path: ["state", "terminated", "reason"]] == "Completed")
            #expect(p?[path: ["status", "containerStatuses"]]?.arrayValue?.first?["started"] == true)
            let lease = try await client.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/fake-a")
            #expect(lease[path: ["spec", "holderIdentity"]] == "fake-a")
        }
    }

    @Test func restartPolicyDecidesTheExit() async throws {
        try await withKubelet { client, runtime in
            _ = try await client.create("/api/v1/namespaces/default/pods", Self.pod("once", node: "fake-a", restartPolicy: "Never"))
            _ = try await client.create("/api/v1/namespaces/default/pods", Self.pod("always", node: "fake-a"))
            for name in ["once", "always"] {
                let running = await eventually { await Self.podStatus(client, name)?[path: ["status", "phase"]] == "Running" }
                try #require(running)
            }
            for name in ["once", "always"] {
                let uid = try #require(await Self.podStatus(client, name)?.uid)
                await runtime.terminate(ContainerID(podUID: uid, name: "app", attempt: 0), exitCode: 2, reason: "Error")
            }
            let failed = await eventually { await Self.podStatus(client, "once")?[path: ["status", "phase"]] == "Failed" }
            #expect(failed)
            let once = await Self.podStatus(client, "once")
            #expect(once?[path: ["status", "containerStatuses"]]?.arrayValue?.first?[path: ["state", "terminated", "exitCode"]] == 2)
            // The first restart after an exit is immediate; restartCount and lastState show it.
            let restarted = await eventually {
                let cs = await Self.podStatus(client, "always")?[path: ["status", "containerStatuses"]]?.arrayValue?.first
                return cs?["restartCount"] == 1 && cs?[path: ["lastState", "terminated", "exitCode"]] == 2 && cs?[path: ["state", "running"]] != nil
            }
            #expect(restarted)
        }
    }

    @Test func deletionWaitsForTheKubeletThenRemovesThePod() async throws {
        try await withKubelet { client, _ in
            _ = try await client.create("/api/v1/namespaces/default/pods", Self.pod("gone", node: "fake-a"))
            let running = await eventually { await Self.podStatus(client, "gone")?[path: ["status", "phase"]] == "Running" }
            try #require(running)
            _ = try await client.delete("/api/v1/namespaces/default/pods/gone")
            let removed = await eventually { await Self.podStatus(client, "gone") == nil }
            #expect(removed)
            let events = try await client.list("/api/v1/namespaces/default/events")
            let reasons = (events["items"]?.arrayValue ?? []).filter { $0[path: ["involvedObject", "name"]] == "gone" }
                .compactMap { $0["reason"]?.stringValue }
            #expect(reasons.contains("Started"))
            #expect(reasons.contains("Killing"))
        }
    }
}
