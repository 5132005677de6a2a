import Foundation
import KubeModel
import KubeTesting
import Testing
@testable import Controllers
@testable import KubeClient

/// The cronjob controller against the recording fake client with the clock injected: which
/// scheduled time starts a Job, its name and annotation, concurrency policies, the starting
/// deadline, history pruning, and schedules in a time zone across DST.
@Suite struct CronJobReconcilerTests {
    let client = RecordingClient()
    let cronJobs = ObjectCache()
    let jobs = ObjectCache()
    let clock = TestTime(ISO8601DateFormatter().date(from: "2026-01-10T10:00:30Z")!)

    @discardableResult
    func cronJob(_ spec: [String: JSONValue] = [:], status: JSONValue? = nil, created: String = "2026-01-10T09:00:00Z") -> JSONValue {
        var s: JSONValue = [
            "schedule": "*/5 * * * *", "concurrencyPolicy": "Allow", "suspend": false,
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1,
            "jobTemplate": ["metadata": ["labels": ["app": "backup"]],
                            "spec": ["template": ["spec": ["restartPolicy": "OnFailure", "containers": [["name": "b", "image": "busybox"]]]]]],
        ]
        for (k, v) in spec { s[k] = v }
        var object: JSONValue = ["apiVersion": "batch/v1", "kind": "CronJob",
                                 "metadata": ["name": "backup", "namespace": "default", "creationTimestamp": .string(created)], "spec": s]
        if let status { object["status"] = status }
        var stored = client.tracker.add(object, to: CronJobController.resource)
        stored[path: ["metadata", "creationTimestamp"]] = .string(created)
        cronJobs.put(stored)
        return stored
    }

    @discardableResult
    func childJob(_ name: String, owner: JSONValue, condition: String?, started: String) -> JSONValue {
        var status: JSONValue = ["startTime": .string(started)]
        if let condition {
            status["conditions"] = [["type": .string(condition), "status": "True", "lastTransitionTime": .string(started)]]
            if condition == "Complete" { status["completionTime"] = .string(started) }
        }
        return client.seed(["apiVersion": "batch/v1", "kind": "Job",
                            "metadata": ["name": .string(name), "namespace": "default",
                                         "ownerReferences": [ObjectRules.ownerReference(to: owner, apiVersion: "batch/v1", kind: "CronJob")]],
                            "status": status], as: JobController.resource, into: jobs)
    }

    func controller(zone: String = "UTC") -> CronJobController {
        let clock = self.clock
        return CronJobController(client: client, cronJobs: cronJobs, jobs: jobs, defaultZone: TimeZone(identifier: zone)!, now: { clock.now })
    }

    func stored() -> JSONValue { client.tracker.object(CronJobController.resource, namespace: "default", name: "backup") ?? .null }
    func created() -> [JSONValue] { client.actions().filter { $0.matches("create", "jobs") }.compactMap(\.object) }

    @Test func startsTheMostRecentScheduledTimeAndWakesAtTheNext() async throws {
        cronJob()
        let result = try await controller().reconcile(key: "default/backup")
        let job = try #require(created().first)
        // 10:00 is minute 29_467_320 since the epoch.
        #expect(job[path: ["metadata", "name"]] == "backup-29467320")
        #expect(job[path: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"]] == "2026-01-10T10:00:00Z")
        #expect(job[path: ["metadata", "labels"]] == ["app": "backup"])
        #expect(job[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["kind"] == "CronJob")
        #expect(job[path: ["spec", "template", "spec", "restartPolicy"]] == "OnFailure")
        #expect(stored()[path: ["status", "lastScheduleTime"]] == "2026-01-10T10:00:00Z")
        #expect(stored()[path: ["status", "active"]]?.arrayValue?.first?["name"] == "backup-29467320")
        #expect(result == .requeue(after: .milliseconds(270_100)))  // 10:05:00.1
        // Nothing more to start in the same round.
        cronJobs.put(stored())
        client.clearActions()
        _ = try await controller().reconcile(key: "default/backup")
        #expect(created().isEmpty)
    }

    @Test func forbidWaitsAndReplaceDeletesTheRunningJob() async throws {
        let last = "2026-01-10T09:55:00Z"
        let cj = cronJob(["concurrencyPolicy": "Forbid"], status: ["lastScheduleTime": .string(last)])
        let running = childJob("backup-29467315", owner: cj, condition: nil, started: last)
        var withActive = cj
        withActive["status"] = ["lastScheduleTime": .string(last), "active": [["kind": "Job", "name": "backup-29467315", "namespace": "default",
                                                                               "uid": .string(running.uid ?? "")]]]
        cronJobs.put(client.tracker.add(withActive, to: CronJobController.resource))
        _ = try await controller().reconcile(key: "default/backup")
        #expect(created().isEmpty)
        #expect(client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue } == ["JobAlreadyActive"])

        var replace = stored()
        replace[path: ["spec", "concurrencyPolicy"]] = "Replace"
        cronJobs.put(client.tracker.add(replace, to: CronJobController.resource))
        client.clearActions()
        _ = try await controller().reconcile(key: "default/backup")
        #expect(client.actions().first { $0.matches("delete", "jobs") }?.name == "backup-29467315")
        #expect(created().count == 1)
        #expect(stored()[path: ["status", "active"]]?.arrayValue?.count == 1)
    }

    @Test func startingDeadlineLeavesOldTimesAlone() async throws {
        // Last run 09:00; 10:00 was 30 s ago but the deadline is 10 s: nothing starts.
        cronJob(["schedule": "0 * * * *", "startingDeadlineSeconds": 10], status: ["lastScheduleTime": "2026-01-10T09:00:00Z"])
        let wait = try await controller().reconcile(key: "default/backup")
        #expect(created().isEmpty)
        #expect(wait == .requeue(after: .milliseconds(3_570_100)))  // 11:00:00.1
        // Within the deadline it does.
        clock.advance(-25)
        _ = try await controller().reconcile(key: "default/backup")
        #expect(created().first?[path: ["metadata", "name"]] == "backup-29467320")
    }

    @Test func tooManyMissedTimesWarnsAndStartsTheLatest() async throws {
        // Created two days ago with a per-minute schedule: thousands of missed times.
        cronJob(["schedule": "* * * * *"], created: "2026-01-08T10:00:00Z")
        _ = try await controller().reconcile(key: "default/backup")
        #expect(created().first?[path: ["metadata", "name"]] == "backup-29467320")
        let reasons = client.actions(on: "events").compactMap { $0.object?["reason"]?.stringValue }
        #expect(reasons.contains("TooManyMissedTimes"))
    }

    @Test func finishedJobsArePrunedBeyondTheHistoryLimits() async throws {
        let cj = cronJob(["successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1, "suspend": true])
        childJob("backup-1", owner: cj, condition: "Complete", started: "2026-01-10T08:00:00Z")
        childJob("backup-2", owner: cj, condition: "Complete", started: "2026-01-10T09:00:00Z")
        childJob("backup-3", owner: cj, condition: "Failed", started: "2026-01-10T07:00:00Z")
        childJob("backup-4", owner: cj, condition: "Failed", started: "2026-01-10T09:30:00Z")
        _ = try await controller().reconcile(key: "default/backup")
        let deleted = client.actions().filter { $0.matches("delete", "jobs") }
        #expect(Set(deleted.compactMap(\.name)) == ["backup-1", "backup-3"])
        #expect(deleted.allSatisfy { $0.object?["propagationPolicy"] == "Background" })
        #expect(stored()[path: ["status", "lastSuccessfulTime"]] == "2026-01-10T09:00:00Z")
        #expect(created().isEmpty)  // suspended
    }

    @Test func aTimeZoneScheduleSkipsTheSpringForwardGap() async throws {
        // 02:30 daily in New York; on 2026-03-08 clocks go from 02:00 EST to 03:00 EDT.
        clock.advance(ISO8601DateFormatter().date(from: "2026-03-08T12:00:00Z")!.timeIntervalSince(clock.now))
        cronJob(["schedule": "30 2 * * *", "timeZone": "America/New_York"], status: ["lastScheduleTime": "2026-03-07T07:30:00Z"])
        let wait = try await controller().reconcile(key: "default/backup")
        #expect(created().isEmpty)
        // Next: 2026-03-09 02:30 EDT = 06:30Z, 18.5 h from now.
        #expect(wait == .requeue(after: .milliseconds(66_600_100)))

        clock.advance(66_600)
        cronJobs.put(stored())
        _ = try await controller().reconcile(key: "default/backup")
        let job = try #require(created().first)
        #expect(job[path: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"]] == "2026-03-09T02:30:00-04:00")
    }

    @Test func aTimeZoneScheduleRunsInBothOffsetsOfTheRepeatedHour() async throws {
        // 01:30 daily in New York; on 2026-11-01 01:00-02:00 happens twice (EDT, then EST).
        clock.advance(ISO8601DateFormatter().date(from: "2026-11-01T05:30:10Z")!.timeIntervalSince(clock.now))
        cronJob(["schedule": "30 1 * * *", "timeZone": "America/New_York"], status: ["lastScheduleTime": "2026-10-31T05:30:00Z"])
        let wait = try await controller().reconcile(key: "default/backup")
        let first = try #require(created().first)
        #expect(first[path: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"]] == "2026-11-01T01:30:00-04:00")
        #expect(wait == .requeue(after: .milliseconds(3_590_100)))  // 01:30 EST, an hour later

        clock.advance(3_590)
        cronJobs.put(stored())
        client.clearActions()
        _ = try await controller().reconcile(key: "default/backup")
        let second = try #require(created().first)
        #expect(second[path: ["metadata", "annotations", "batch.kubernetes.io/cronjob-scheduled-timestamp"]] == "2026-11-01T01:30:00-05:00")
        #expect(second[path: ["metadata", "name"]] != first[path: ["metadata", "name"]])
    }

    @Test func anUnknownTimeZoneIsReported() async throws {
        cronJob(["timeZone": "Mars/Olympus"])
        _ = try await controller().reconcile(key: "default/backup")
        #expect(created().isEmpty)
        #expect(client.actions(on: "events").first?.object?["reason"] == "UnknownTimeZone")
    }
}
