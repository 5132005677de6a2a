import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The job controller against the recording fake client, with the clock injected: pod
/// creation, counting through the tracking finalizer, back-off, failure and success rules.
@Suite struct JobReconcilerTests {
    let client = RecordingClient()
    let jobs = ObjectCache()
    let pods = ObjectCache()
    let clock = TestTime(Date(timeIntervalSince1970: 1_800_000_000))

    @discardableResult
    func job(_ spec: [String: JSONValue] = [:], status: JSONValue? = nil) -> JSONValue {
        var s: JSONValue = [
            "parallelism": 1, "completions": 1, "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": false,
            "podReplacementPolicy": "TerminatingOrFailed", "selector": ["matchLabels": ["batch.kubernetes.io/controller-uid": "u1"]],
            "template": ["metadata": ["labels": ["batch.kubernetes.io/controller-uid": "u1", "batch.kubernetes.io/job-name": "pi"]],
                         "spec": ["restartPolicy": "Never", "containers": [["name": "main", "image": "busybox"]]]],
        ]
        for (k, v) in spec { s[k] = v }
        var object: JSONValue = ["apiVersion": "batch/v1", "kind": "Job", "metadata": ["name": "pi", "namespace": "default"], "spec": s]
        if let status { object["status"] = status }
        return client.seed(object, as: JobController.resource, into: jobs)
    }

    /// A pod of `owner` in `phase` (exit code for finished containers), holding the tracking finalizer.
    @discardableResult
    func pod(_ name: String, owner: JSONValue, phase: String, exitCode: Int64? = nil, index: Int? = nil,
             finishedAt: Date? = nil, finalizer: Bool = true) -> JSONValue {
        var meta: JSONValue = ["name": .string(name), "namespace": "default",
                               "ownerReferences": [ObjectRules.ownerReference(to: owner, apiVersion: "batch/v1", kind: "Job")]]
        if finalizer { meta["finalizers"] = [.string(JobPodTemplate.trackingFinalizer)] }
        if let index { meta["annotations"] = .object([JobPodTemplate.indexAnnotation: .string(String(index))]) }
        var status: JSONValue = ["phase": .string(phase)]
        if let exitCode {
            status["containerStatuses"] = [["name": "main", "state": ["terminated": [
                "exitCode": .int(exitCode), "finishedAt": .string(Timestamp.format(finishedAt ?? clock.now))]]]]
        }
        return client.seed(["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": ["containers": [["name": "main"]]], "status": status],
                           as: JobController.podResource, into: pods)
    }

    func controller() -> JobController {
        let clock = self.clock
        return JobController(client: client, jobs: jobs, pods: pods, now: { clock.now })
    }

    func stored() -> JSONValue { client.tracker.object(JobController.resource, namespace: "default", name: "pi") ?? .null }

    func conditions(_ job: JSONValue) -> [String: String] {
        var out: [String: String] = [:]
        for c in job[path: ["status", "conditions"]]?.arrayValue ?? [] {
            out[c["type"]?.stringValue ?? ""] = "\(c["status"]?.stringValue ?? "")/\(c["reason"]?.stringValue ?? "")"
        }
        return out
    }

    func events() -> [String] { client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue } }

    @Test func createsParallelismPodsWithFinalizerAndOwner() async throws {
        let j = job(["completions": 5, "parallelism": 2])
        _ = try await controller().reconcile(key: "default/pi")
        let creates = client.actions().filter { $0.matches("create", "pods") }
        #expect(creates.count == 2)
        let pod = try #require(creates.first?.object)
        #expect(pod[path: ["metadata", "generateName"]] == "pi-")
        #expect(pod[path: ["metadata", "finalizers"]] == ["batch.kubernetes.io/job-tracking"])
        #expect(pod[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == .string(j.uid ?? ""))
        #expect(pod[path: ["metadata", "labels", "batch.kubernetes.io/job-name"]] == "pi")
        let status = stored()["status"] ?? .null
        #expect(status["active"] == 2 && status["ready"] == 0 && status["terminating"] == 0)
        #expect(status["startTime"] == .string(Timestamp.format(clock.now)))
        #expect(status["uncountedTerminatedPods"] == [:])
        #expect(events().filter { $0 == "SuccessfulCreate" }.count == 2)
    }

    @Test func indexedPodsCarryTheirIndex() async throws {
        job(["completionMode": "Indexed", "completions": 3, "parallelism": 3])
        _ = try await controller().reconcile(key: "default/pi")
        let created = client.actions().filter { $0.matches("create", "pods") }.compactMap(\.object)
        #expect(created.map { $0[path: ["metadata", "annotations", "batch.kubernetes.io/job-completion-index"]] } == ["0", "1", "2"])
        let second = try #require(created.dropFirst().first)
        #expect(second[path: ["metadata", "generateName"]] == "pi-1-")
        #expect(second[path: ["spec", "hostname"]] == "pi-1")
        #expect(second[path: ["metadata", "labels", "batch.kubernetes.io/job-completion-index"]] == "1")
        #expect(second[path: ["spec", "containers"]]?.arrayValue?.first?["env"] == [[
            "name": "JOB_COMPLETION_INDEX",
            "valueFrom": ["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"]],
        ]])
    }

    @Test func succeededPodsAreCountedBeforeTheirFinalizerGoesThenTheJobCompletes() async throws {
        let j = job()
        let done = pod("pi-a", owner: j, phase: "Succeeded", exitCode: 0)
        _ = try await controller().reconcile(key: "default/pi")
        let actions = client.actions().filter { $0.resource.plural != "events" }
        // 1. the uid recorded as uncounted, 2. the finalizer removed, 3. counted and complete.
        #expect(actions.count == 3, "\(actions)")
        #expect(actions[0].matches("update", "jobs", subresource: "status"))
        #expect(actions[0].object?[path: ["status", "uncountedTerminatedPods", "succeeded"]] == [.string(done.uid ?? "")])
        #expect(actions[1].matches("patch", "pods") && actions[1].patchType == .json)
        #expect(actions[2].matches("update", "jobs", subresource: "status"))
        let status = stored()["status"] ?? .null
        #expect(status["succeeded"] == 1 && status["active"] == nil)
        #expect(status["uncountedTerminatedPods"] == [:])
        #expect(status["completionTime"] == .string(Timestamp.format(clock.now)))
        #expect(conditions(stored()) == ["SuccessCriteriaMet": "True/CompletionsReached", "Complete": "True/CompletionsReached"])
        #expect(events() == ["Completed"])
        let pod = client.tracker.object(JobController.podResource, namespace: "default", name: "pi-a")
        #expect(pod?[path: ["metadata", "finalizers"]] == [])
    }

    @Test func failuresBackOffThenReachTheBackoffLimit() async throws {
        let j = job(["backoffLimit": 1])
        pod("pi-a", owner: j, phase: "Failed", exitCode: 1)
        var result = try await controller().reconcile(key: "default/pi")
        // One failure: the replacement waits 10 s from the failure.
        #expect(client.actions().filter { $0.matches("create", "pods") }.isEmpty)
        #expect(result == .requeue(after: .seconds(10)))
        #expect(stored()[path: ["status", "failed"]] == 1)

        clock.advance(10)
        jobs.put(stored())
        pods.put(client.tracker.object(JobController.podResource, namespace: "default", name: "pi-a") ?? .null)
        result = try await controller().reconcile(key: "default/pi")
        let created = client.actions().filter { $0.matches("create", "pods") }
        #expect(created.count == 1)

        // The second failure passes the limit of 1: FailureTarget, then Failed once nothing runs.
        client.clearActions()
        jobs.put(stored())
        let second = client.tracker.objects(JobController.podResource, namespace: "default").first { $0.name != "pi-a" }
        var failed = try #require(second)
        failed["status"] = ["phase": "Failed", "containerStatuses": [["name": "main", "state": ["terminated": ["exitCode": 1]]]]]
        failed = client.tracker.add(failed, to: JobController.podResource)
        pods.put(failed)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(stored()[path: ["status", "failed"]] == 2)
        #expect(conditions(stored()) == ["FailureTarget": "True/BackoffLimitExceeded", "Failed": "True/BackoffLimitExceeded"])
        #expect(stored()[path: ["status", "completionTime"]] == nil)
        #expect(events().contains("BackoffLimitExceeded"))
    }

    @Test func backoffDoublesAndIsCapped() {
        #expect(JobBackoff.delay(afterFailures: 1) == 10)
        #expect(JobBackoff.delay(afterFailures: 2) == 20)
        #expect(JobBackoff.delay(afterFailures: 6) == 320)
        #expect(JobBackoff.delay(afterFailures: 7) == 360)
        #expect(JobBackoff.delay(afterFailures: 40) == 360)
    }

    @Test func podFailurePolicyFailsTheJobOnAnExitCode() async throws {
        let policy: JSONValue = ["rules": [
            ["action": "Ignore", "onPodConditions": [["type": "DisruptionTarget", "status": "True"]]],
            ["action": "FailJob", "onExitCodes": ["containerName": "main", "operator": "In", "values": [42]]],
        ]]
        let j = job(["podFailurePolicy": policy, "podReplacementPolicy": "Failed", "completions": 2, "parallelism": 2])
        pod("pi-a", owner: j, phase: "Failed", exitCode: 42)
        pod("pi-b", owner: j, phase: "Running")
        _ = try await controller().reconcile(key: "default/pi")
        let target = JobConditions.find(stored()[path: ["status", "conditions"]]?.arrayValue ?? [], "FailureTarget")
        #expect(target?["reason"] == "PodFailurePolicy")
        #expect(target?["message"] == "Container main for pod default/pi-a failed with exit code 42 matching FailJob rule at index 1")
        // The running pod is released and deleted; Failed waits until it is gone.
        #expect(client.actions().contains { $0.matches("delete", "pods") && $0.name == "pi-b" })
        #expect(conditions(stored())["Failed"] == nil)
    }

    @Test func ignoredFailuresAreNotCounted() async throws {
        let policy: JSONValue = ["rules": [["action": "Ignore", "onExitCodes": ["operator": "In", "values": [137]]]]]
        let j = job(["podFailurePolicy": policy, "podReplacementPolicy": "Failed", "backoffLimit": 0])
        pod("pi-a", owner: j, phase: "Failed", exitCode: 137)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(stored()[path: ["status", "failed"]] == nil)
        #expect(conditions(stored())["FailureTarget"] == nil)
        // Not a failure for the back-off either: the replacement is created at once.
        #expect(client.actions().filter { $0.matches("create", "pods") }.count == 1)
    }

    @Test func activeDeadlineFailsTheJob() async throws {
        let start = clock.now
        let j = job(["activeDeadlineSeconds": 30], status: ["startTime": .string(Timestamp.format(start))])
        pod("pi-a", owner: j, phase: "Running")
        let wait = try await controller().reconcile(key: "default/pi")
        #expect(wait == .requeue(after: .seconds(30)))
        clock.advance(30)
        jobs.put(stored())
        _ = try await controller().reconcile(key: "default/pi")
        #expect(conditions(stored())["FailureTarget"] == "True/DeadlineExceeded")
        #expect(client.actions().contains { $0.matches("delete", "pods") && $0.name == "pi-a" })
    }

    @Test func suspendDeletesActivePodsAndResumeResetsTheStart() async throws {
        let j = job(["suspend": true, "parallelism": 2, "completions": 4], status: ["startTime": "2020-01-01T00:00:00Z"])
        pod("pi-a", owner: j, phase: "Running")
        _ = try await controller().reconcile(key: "default/pi")
        #expect(client.actions().contains { $0.matches("delete", "pods") && $0.name == "pi-a" })
        #expect(conditions(stored())["Suspended"] == "True/JobSuspended")
        #expect(events().contains("Suspended"))

        var resumed = stored()
        resumed[path: ["spec", "suspend"]] = false
        resumed = client.tracker.add(resumed, to: JobController.resource)
        jobs.put(resumed)
        pods.remove("default/pi-a")
        clock.advance(60)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(conditions(stored())["Suspended"] == "False/JobResumed")
        #expect(stored()[path: ["status", "startTime"]] == .string(Timestamp.format(clock.now)))
        #expect(client.actions().filter { $0.matches("create", "pods") }.count == 2)
    }

    @Test func successPolicyEndsAnIndexedJobEarly() async throws {
        let j = job(["completionMode": "Indexed", "completions": 3, "parallelism": 3,
                     "successPolicy": ["rules": [["succeededIndexes": "0", "succeededCount": 1]]]])
        pod("pi-0-x", owner: j, phase: "Succeeded", exitCode: 0, index: 0)
        pod("pi-1-x", owner: j, phase: "Running", index: 1)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(stored()[path: ["status", "completedIndexes"]] == "0")
        #expect(conditions(stored())["SuccessCriteriaMet"] == "True/SuccessPolicy")
        #expect(client.actions().contains { $0.matches("delete", "pods") && $0.name == "pi-1-x" })
    }

    @Test func aWorkQueueStopsCreatingOnceOnePodSucceeded() async throws {
        let j = job(["completions": .null, "parallelism": 3])
        pod("pi-a", owner: j, phase: "Succeeded", exitCode: 0)
        pod("pi-b", owner: j, phase: "Running")
        _ = try await controller().reconcile(key: "default/pi")
        #expect(client.actions().filter { $0.matches("create", "pods") || $0.matches("delete", "pods") }.isEmpty)
        #expect(conditions(stored())["Complete"] == nil)
        // The last worker finishes: the Job completes.
        jobs.put(stored())
        pods.put(client.tracker.object(JobController.podResource, namespace: "default", name: "pi-a") ?? .null)
        pod("pi-b", owner: j, phase: "Succeeded", exitCode: 0)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(stored()[path: ["status", "succeeded"]] == 2)
        #expect(conditions(stored())["Complete"] == "True/CompletionsReached")
    }

    @Test func anIndexPastItsBackoffLimitFailsTheJob() async throws {
        let j = job(["completionMode": "Indexed", "completions": 2, "parallelism": 2, "backoffLimitPerIndex": 0,
                     "backoffLimit": .int(Int64(Int32.max))])
        pod("pi-0-x", owner: j, phase: "Failed", exitCode: 1, index: 0)
        pod("pi-1-x", owner: j, phase: "Succeeded", exitCode: 0, index: 1)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(stored()[path: ["status", "failedIndexes"]] == "0")
        #expect(stored()[path: ["status", "completedIndexes"]] == "1")
        #expect(conditions(stored())["FailureTarget"] == "True/FailedIndexes")
        #expect(conditions(stored())["Failed"] == "True/FailedIndexes")
        // The failed index is not retried.
        #expect(client.actions().filter { $0.matches("create", "pods") }.isEmpty)
    }

    @Test func replacementWaitsForTheDeletedPodWithPolicyFailed() async throws {
        let j = job(["podReplacementPolicy": "Failed"])
        var deleting = pod("pi-a", owner: j, phase: "Running", finalizer: false)
        deleting[path: ["metadata", "deletionTimestamp"]] = .string(Timestamp.format(clock.now))
        pods.put(deleting)
        _ = try await controller().reconcile(key: "default/pi")
        #expect(client.actions().filter { $0.matches("create", "pods") }.isEmpty)
        #expect(stored()[path: ["status", "terminating"]] == 1)
    }

    @Test func podsOfAGoneJobLoseTheirFinalizer() async throws {
        let j = job()
        pod("pi-a", owner: j, phase: "Running")
        jobs.remove("default/pi")
        _ = try await controller().reconcile(key: "default/pi")
        #expect(client.actions().filter { $0.matches("patch", "pods") }.map(\.name) == ["pi-a"])
    }

    @Test func ttlDeletesTheFinishedJobInTheForeground() async throws {
        let finished = Timestamp.format(clock.now)
        job(["ttlSecondsAfterFinished": 100], status: ["conditions": [
            ["type": "Complete", "status": "True", "lastTransitionTime": .string(finished)]]])
        let clock = self.clock
        let ttl = TTLAfterFinishedController(client: client, jobs: jobs, now: { clock.now })
        #expect(try await ttl.reconcile(key: "default/pi") == .requeue(after: .milliseconds(100_001)))
        clock.advance(100)
        _ = try await ttl.reconcile(key: "default/pi")
        let delete = try #require(client.actions().first { $0.matches("delete", "jobs") })
        #expect(delete.object?["propagationPolicy"] == "Foreground")
    }
}
