import APIServer
import Foundation
import KubeClient
import KubeModel
import KubeTesting
import Testing
@testable import Controllers

/// The real API server in-process with the ControllerManager: a Job's pods are created with
/// the tracking finalizer, the test plays the node finishing them, and the Job completes with
/// every pod counted and released; deleting the Job takes its pods along.
@Suite struct JobEndToEndTests {
    static let jobs = ResourcePath(group: "batch", version: "v1", plural: "jobs", namespace: "default")
    static let pods = ResourcePath.core("pods", namespace: "default")

    @Test(.timeLimit(.minutes(5))) func jobCompletesAndIsCollected() async throws {
        try await withControlPlane(scenario)
    }

    func pods(_ client: KubeRESTClient) async throws -> [JSONValue] {
        try await client.list(Self.pods.path, query: ["labelSelector": "batch.kubernetes.io/job-name=work"])["items"]?.arrayValue ?? []
    }

    func scenario(_ client: KubeRESTClient) async throws {
        let job: JSONValue = [
            "apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "work"],
            "spec": ["completions": 3, "parallelism": 2,
                     "template": ["spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "busybox"]]]]],
        ]
        _ = try await client.create(Self.jobs.path, job)
        // Acting as the node: each pod that appears succeeds.
        let completed = try await eventually(timeout: .seconds(30)) {
            for pod in try await pods(client) where pod[path: ["status", "phase"]]?.stringValue != "Succeeded" {
                #expect(pod[path: ["metadata", "finalizers"]] == ["batch.kubernetes.io/job-tracking"])
                var path = Self.pods.named(pod.name ?? "")
                path.subresource = "status"
                let body: JSONValue = ["status": ["phase": "Succeeded", "containerStatuses": [[
                    "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
                    "state": ["terminated": ["exitCode": 0, "reason": "Completed", "finishedAt": .string(Timestamp.now())]]]]]]
                _ = try? await client.patch(path.path, body, type: .merge)
            }
            let j = try await client.get(Self.jobs.named("work").path)
            return JobConditions.holds(j[path: ["status", "conditions"]]?.arrayValue ?? [], "Complete")
        }
        try #require(completed)
        let done = try await client.get(Self.jobs.named("work").path)
        #expect(done[path: ["status", "succeeded"]] == 3)
        #expect(done[path: ["status", "uncountedTerminatedPods"]] == [:])
        let finished = try await pods(client)
        #expect(finished.count == 3)
        #expect(finished.allSatisfy { ($0[path: ["metadata", "finalizers"]]?.arrayValue ?? []).isEmpty })

        _ = try await client.delete(Self.jobs.named("work").path, options: ["propagationPolicy": "Background"])
        let collected = try await eventually(timeout: .seconds(30)) { try await pods(client).isEmpty }
        #expect(collected)
    }
}
