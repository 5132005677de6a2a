import Foundation
import KubeClient
import KubeModel

extension CronJobController {
    /// Brings `status.active` in line with the Jobs: finished ones leave it (their completion
    /// time feeds `lastSuccessfulTime`), ones gone from the API leave it too.
    func reconcileActive(_ sync: inout CronJobSync, children: [JSONValue]) async throws {
        var active = sync.active
        var live: JSONValue?
        for job in children {
            var listed = active.contains { $0["uid"]?.stringValue == job.uid }
            let finished = JobConditions.isFinished(job)
            if !listed && !finished {
                // Our cache may predate the status write that listed it: ask the API server once.
                if live == nil {
                    let path = Self.resource.inNamespace(sync.cronJob.namespace).named(sync.cronJob.name ?? "").path
                    live = (try? await client.get(path)) ?? .null
                }
                if let ref = live?[path: ["status", "active"]]?.arrayValue?.first(where: { $0["uid"]?.stringValue == job.uid }) {
                    active.append(ref)
                    listed = true
                } else {
                    sync.event("UnexpectedJob", "Saw a job that the controller did not create or forgot: \(job.name ?? "")", warning: true)
                }
            }
            if listed && finished {
                active.removeAll { $0["uid"]?.stringValue == job.uid }
                let condition = JobConditions.holds(job[path: ["status", "conditions"]]?.arrayValue ?? [], "Complete") ? "Complete" : "Failed"
                sync.event("SawCompletedJob", "Saw completed job: \(job.name ?? ""), condition: \(condition)")
            }
            if finished, let completed = job[path: ["status", "completionTime"]]?.stringValue.flatMap(Timestamp.parse) {
                let last = sync.status["lastSuccessfulTime"]?.stringValue.flatMap(Timestamp.parse)
                if last.map({ completed > $0 }) ?? true { sync.status["lastSuccessfulTime"] = .string(Timestamp.format(completed)) }
            }
        }
        let known = Set(children.compactMap(\.uid))
        for ref in active where !known.contains(ref["uid"]?.stringValue ?? "") {
            // The cache may not show a Job just created: ask the API server.
            let name = ref["name"]?.stringValue ?? ""
            let path = JobController.resource.inNamespace(sync.cronJob.namespace).named(name).path
            do {
                let job = try await client.get(path)
                if job.uid == ref["uid"]?.stringValue { continue }
            } catch let e as KubeAPIError where e.isNotFound {}
            active.removeAll { $0["uid"] == ref["uid"] }
            sync.event("MissingJob", "Active job went missing: \(name)")
        }
        sync.active = active
    }

    /// Deletes the oldest finished Jobs beyond `successfulJobsHistoryLimit` and
    /// `failedJobsHistoryLimit`.
    func pruneHistory(_ sync: inout CronJobSync, children: [JSONValue]) async throws {
        let spec = sync.cronJob["spec"] ?? .object([:])
        func started(_ job: JSONValue) -> Date {
            job[path: ["status", "startTime"]]?.stringValue.flatMap(Timestamp.parse) ?? ObjectRules.creationTime(job) ?? .distantPast
        }
        for (type, field) in [("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")] {
            guard let limit = spec[field]?.intValue else { continue }
            let finished = children.filter { !ObjectRules.isTerminating($0)
                && JobConditions.holds($0[path: ["status", "conditions"]]?.arrayValue ?? [], type) }
            guard finished.count > Int(limit) else { continue }
            for job in finished.sorted(by: { started($0) < started($1) }).prefix(finished.count - Int(limit)) {
                try await deleteJob(named: job.name ?? "", &sync)
            }
        }
    }

    /// Deletes a Job and its pods (background propagation) and drops it from `active`.
    func deleteJob(named name: String, _ sync: inout CronJobSync) async throws {
        let path = JobController.resource.inNamespace(sync.cronJob.namespace).named(name).path
        let options: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Background"]
        do {
            _ = try await client.delete(path, options: options)
            sync.event("SuccessfulDelete", "Deleted job \(name)")
        } catch let e as KubeAPIError where e.isNotFound {}
        sync.active.removeAll { $0["name"]?.stringValue == name }
    }

    /// Creates the Job for `scheduled` from the template, controlled by the CronJob, and
    /// records it in `active` and `lastScheduleTime`.
    func createJob(named name: String, scheduled: Date, zone: TimeZone, _ sync: inout CronJobSync) async throws {
        let cronJob = sync.cronJob
        let template = cronJob[path: ["spec", "jobTemplate"]] ?? .object([:])
        var annotations = template[path: ["metadata", "annotations"]]?.objectValue ?? [:]
        annotations[Self.scheduledTimestampAnnotation] = .string(Self.rfc3339(scheduled, zone))
        var meta: JSONValue = [
            "name": .string(name), "namespace": .string(cronJob.namespace ?? ""), "annotations": .object(annotations),
            "ownerReferences": [ObjectRules.ownerReference(to: cronJob, apiVersion: "batch/v1", kind: "CronJob")],
        ]
        if let labels = template[path: ["metadata", "labels"]], !labels.isNull { meta["labels"] = labels }
        let job: JSONValue = ["apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": template["spec"] ?? .object([:])]
        let path = JobController.resource.inNamespace(cronJob.namespace).path
        let created: JSONValue
        do {
            created = try await client.create(path, job)
            sync.event("SuccessfulCreate", "Created job \(name)")
        } catch let e as KubeAPIError where e.code == 409 && e.reason == "AlreadyExists" {
            // Created by an earlier round whose status write was lost: adopt it if it is ours.
            let existing = try await client.get(JobController.resource.inNamespace(cronJob.namespace).named(name).path)
            guard ObjectRules.controllerRef(of: existing)?["uid"]?.stringValue == cronJob.uid else { return }
            created = existing
        } catch {
            sync.event("FailedCreate", "Error creating job: \(error)", warning: true)
            throw error
        }
        if !JobConditions.isFinished(created) && !sync.active.contains(where: { $0["uid"]?.stringValue == created.uid }) {
            sync.active.append([
                "kind": "Job", "namespace": .string(created.namespace ?? ""), "name": .string(created.name ?? ""),
                "uid": .string(created.uid ?? ""), "apiVersion": "batch/v1", "resourceVersion": .string(created.resourceVersion ?? ""),
            ])
        }
        sync.status["lastScheduleTime"] = .string(Timestamp.format(scheduled))
    }
}
