import Foundation
import KubeClient
import KubeModel

extension JobController {
    /// Suspends or resumes, decides success or failure, and otherwise creates or deletes pods
    /// towards the wanted number. Returns how long until a deadline or the back-off ends.
    func manage(_ sync: inout JobSync, owned: [JSONValue], key: String) async throws -> TimeInterval? {
        var active = owned.filter(ObjectRules.isActive)
        // Being deleted and not yet finished.
        let terminating = owned.filter { ObjectRules.isTerminating($0)
            && !["Succeeded", "Failed"].contains($0[path: ["status", "phase"]]?.stringValue ?? "") }
        let ready = active.filter(ObjectRules.isReady).count
        defer {
            sync.setCount("ready", ready)
            sync.setCount("terminating", terminating.count)
        }
        if sync.suspended {
            if !sync.holds("Suspended") {
                sync.setCondition("Suspended", true, reason: "JobSuspended", message: "Job suspended")
                sync.event("Suspended", "Job suspended")
            }
            let deleted = try await deletePods(active, sync: sync, key: key)
            sync.setCount("active", active.count - deleted)
            return nil
        }
        if sync.holds("Suspended") {
            sync.setCondition("Suspended", false, reason: "JobResumed", message: "Job resumed")
            sync.event("Resumed", "Job resumed")
            // The deadline counts from the resumption.
            sync.status["startTime"] = .string(Timestamp.format(sync.now))
        }
        if sync.status["startTime"]?.stringValue == nil { sync.status["startTime"] = .string(Timestamp.format(sync.now)) }

        if !sync.holds("FailureTarget") && !sync.holds("SuccessCriteriaMet") {
            if let (reason, message) = JobVerdict.failure(sync, active: active) {
                sync.setCondition("FailureTarget", true, reason: reason, message: message)
            } else if let (reason, message) = JobVerdict.success(sync, activeCount: active.count) {
                sync.setCondition("SuccessCriteriaMet", true, reason: reason, message: message)
            }
        }
        let failing = JobConditions.holding(sync.conditions, "FailureTarget")
        let succeeding = JobConditions.holding(sync.conditions, "SuccessCriteriaMet")
        if let verdict = failing ?? succeeding {
            let deleted = try await deletePods(active, sync: sync, key: key)
            sync.setCount("active", active.count - deleted)
            // Finished once every pod has terminated and been counted.
            let settled = active.isEmpty && terminating.isEmpty && sync.uncounted("succeeded").isEmpty && sync.uncounted("failed").isEmpty
            guard settled else { return nil }
            let reason = verdict["reason"]?.stringValue ?? ""
            let message = verdict["message"]?.stringValue ?? ""
            if failing != nil {
                sync.setCondition("Failed", true, reason: reason, message: message)
                sync.event(reason, message, warning: true)
            } else {
                sync.setCondition("Complete", true, reason: reason, message: message)
                sync.status["completionTime"] = .string(Timestamp.format(sync.now))
                sync.event("Completed", "Job completed")
            }
            return nil
        }

        var wait: TimeInterval?
        if let deadline = JobVerdict.deadline(sync) { wait = deadline.timeIntervalSince(sync.now) }
        guard await expectations.satisfied(key) else {
            sync.setCount("active", active.count)
            return wait
        }
        var plan = sync.indexed ? JobPodPlan.indexed(sync, active: active, terminating: terminating)
                                : JobPodPlan.nonIndexed(sync, active: active, terminating: terminating)
        if !plan.create.isEmpty {
            let finished = owned.compactMap { pod -> (pod: JSONValue, failed: Bool)? in
                guard let phase = pod[path: ["status", "phase"]]?.stringValue, phase == "Succeeded" || phase == "Failed" else { return nil }
                let ignored = PodFailurePolicy.action(for: pod, policy: sync.spec["podFailurePolicy"]) == .ignore
                return (pod, phase == "Failed" && !ignored)
            }
            if let readyAt = JobBackoff.readyAt(finished: finished), readyAt > sync.now {
                plan.create = []
                let backoff = readyAt.timeIntervalSince(sync.now)
                wait = min(wait ?? backoff, backoff)
            }
        }
        await expectations.expect(key, adds: plan.create.count, deletes: plan.delete.count)
        var firstError: (any Error)?
        var deleted = 0
        var created = 0
        do { deleted = try await deletePods(plan.delete, sync: sync, key: key, expected: true) } catch { firstError = error }
        do { created = try await createPods(plan.create, sync: sync, key: key) } catch { firstError = firstError ?? error }
        active.removeAll { pod in plan.delete.contains { $0.uid == pod.uid } }
        sync.setCount("active", active.count + created + (plan.delete.count - deleted))
        if let firstError { throw firstError }
        return wait
    }

    /// Creates one pod per entry (an index in Indexed mode), stopping at the first failure.
    private func createPods(_ indexes: [Int?], sync: JobSync, key: String) async throws -> Int {
        let path = Self.podResource.inNamespace(sync.job.namespace).path
        var created = 0
        for (n, index) in indexes.enumerated() {
            do {
                let pod = try await client.create(path, JobPodTemplate.pod(for: sync.job, index: index))
                created += 1
                await recorder.record(sync.job, apiVersion: "batch/v1", kind: "Job", reason: "SuccessfulCreate",
                                      message: "Created pod: \(pod.name ?? "")")
            } catch {
                // Creations that will never show up in the cache.
                for _ in n..<indexes.count { await expectations.creationObserved(key) }
                await recorder.record(sync.job, apiVersion: "batch/v1", kind: "Job", type: "Warning", reason: "FailedCreate",
                                      message: "Error creating: \(error)")
                throw error
            }
        }
        return created
    }

    /// Releases and deletes pods (a pod the Job deletes is not counted as failed); returns how
    /// many were deleted.
    func deletePods(_ victims: [JSONValue], sync: JobSync, key: String, expected: Bool = false) async throws -> Int {
        var deleted = 0
        var firstError: (any Error)?
        for pod in victims {
            do {
                try await removeFinalizer(pod, key: key)
                let path = Self.podResource.inNamespace(pod.namespace).named(pod.name ?? "").path
                let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "preconditions": ["uid": .string(pod.uid ?? "")]]
                do {
                    _ = try await client.delete(path, options: options)
                    await recorder.record(sync.job, apiVersion: "batch/v1", kind: "Job", reason: "SuccessfulDelete",
                                          message: "Deleted pod: \(pod.name ?? "")")
                } catch let e as KubeAPIError where e.isNotFound {}
                deleted += 1
            } catch {
                if expected { await expectations.deletionObserved(key) }
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return deleted
    }
}
