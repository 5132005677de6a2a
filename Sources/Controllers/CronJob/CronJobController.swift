import Foundation
import KubeClient
import KubeModel

/// Starts a Job from each CronJob's `jobTemplate` at the times of its `schedule` (Kubernetes'
/// cronjob controller v2): in `timeZone` (else the manager's zone), within
/// `startingDeadlineSeconds`, following `concurrencyPolicy`, keeping `status.active`,
/// `lastScheduleTime` and `lastSuccessfulTime`, and pruning finished Jobs beyond the history
/// limits. It wakes itself at the next scheduled time; the clock is injected.
public struct CronJobController: Reconciler {
    static let resource = ResourcePath(group: "batch", version: "v1", plural: "cronjobs")
    static let scheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

    let client: any ResourceClient
    let cronJobs: ObjectCache
    let jobs: ObjectCache
    let defaultZone: TimeZone
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "cronjob-controller", correlator: correlator) }

    init(client: any ResourceClient, cronJobs: ObjectCache, jobs: ObjectCache, defaultZone: TimeZone = .current,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.cronJobs = cronJobs
        self.jobs = jobs
        self.defaultZone = defaultZone
        self.now = now
    }

    /// Watches CronJobs and the Jobs they control.
    static func descriptor(client: any ResourceClient) -> ControllerDescriptor {
        ControllerDescriptor(name: "cronjob", workers: 1) { wiring in
            let cronJobs = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watch(JobController.resource, ControllerEvents.dependentHandler(ownerKind: "CronJob", owners: cronJobs,
                                                                                   expectations: nil, enqueue: wiring.enqueue))
            return CronJobController(client: client, cronJobs: cronJobs, jobs: wiring.cache(JobController.resource))
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        guard let cronJob = cronJobs.get(key), let uid = cronJob.uid else { return .done }
        let t = now()
        var sync = CronJobSync(cronJob: cronJob)
        let children = jobs.list(namespace: cronJob.namespace ?? "").filter { ObjectRules.controllerRef(of: $0)?["uid"]?.stringValue == uid }
        try await reconcileActive(&sync, children: children)
        if ObjectRules.isTerminating(cronJob) { try await finish(&sync); return .done }
        try await pruneHistory(&sync, children: children)
        let result = try await schedule(&sync, now: t)
        try await finish(&sync)
        return result
    }

    /// Starts the Job of the most recent missed time if the rules allow; returns when to look
    /// again (the next scheduled time).
    private func schedule(_ sync: inout CronJobSync, now t: Date) async throws -> ReconcileResult {
        let spec = sync.cronJob["spec"] ?? .object([:])
        if spec["suspend"]?.boolValue == true { return .done }
        let zoneName = spec["timeZone"]?.stringValue
        guard let zone = zoneName.map({ TimeZone(identifier: $0) }) ?? defaultZone else {
            sync.event("UnknownTimeZone", "invalid timeZone: \"\(zoneName ?? "")\"", warning: true)
            return .done
        }
        let text = spec["schedule"]?.stringValue ?? ""
        let schedule: CronSchedule
        do { schedule = try CronSchedule(parsing: text) } catch {
            sync.event("UnparseableSchedule", "unparseable schedule: \"\(text)\" : \(error)", warning: true)
            return .done
        }
        // Nothing older than the starting deadline is started (nor counted as missed).
        var earliest = sync.lastScheduleTime ?? ObjectRules.creationTime(sync.cronJob) ?? t
        let deadline = spec["startingDeadlineSeconds"]?.intValue
        if let deadline { earliest = max(earliest, t.addingTimeInterval(-TimeInterval(deadline))) }
        let times = CronJobScheduleTimes(schedule: schedule, zone: zone, earliest: earliest, now: t)
        let wake = times.next.map { ReconcileResult.requeue(after: .milliseconds(Int64($0.timeIntervalSince(t) * 1000) + 100)) } ?? .done
        if times.tooManyMissed {
            sync.event("TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew", warning: true)
        }
        guard let scheduled = times.mostRecent else { return wake }
        if let deadline, scheduled.addingTimeInterval(TimeInterval(deadline)) < t {
            sync.event("MissSchedule", "Missed scheduled time to start a job: \(Self.rfc1123Z(scheduled, TimeZone(identifier: "UTC") ?? zone))", warning: true)
            return wake
        }
        let name = Self.jobName(sync.cronJob.name ?? "", scheduled)
        if sync.active.contains(where: { $0["name"]?.stringValue == name }) || sync.lastScheduleTime == scheduled { return wake }
        switch spec["concurrencyPolicy"]?.stringValue {
        case "Forbid" where !sync.active.isEmpty:
            sync.event("JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
            return wake
        case "Replace":
            for ref in sync.active { try await deleteJob(named: ref["name"]?.stringValue ?? "", &sync) }
        default: break
        }
        try await createJob(named: name, scheduled: scheduled, zone: zone, &sync)
        return wake
    }

    /// Writes the status when it changed, then records the round's events.
    private func finish(_ sync: inout CronJobSync) async throws {
        let events = sync.pendingEvents
        sync.pendingEvents = []
        if sync.status != (sync.cronJob["status"] ?? .object([:])) {
            var body = sync.cronJob
            body["status"] = sync.status
            var path = Self.resource.inNamespace(sync.cronJob.namespace).named(sync.cronJob.name ?? "")
            path.subresource = "status"
            do { sync.cronJob = try await client.update(path.path, body) } catch let e as KubeAPIError where e.isNotFound {}
        }
        for event in events {
            await recorder.record(sync.cronJob, apiVersion: "batch/v1", kind: "CronJob", type: event.type, reason: event.reason, message: event.message)
        }
    }

    /// `<cronjob>-<minutes since the epoch of the scheduled time>`.
    static func jobName(_ cronJob: String, _ scheduled: Date) -> String {
        "\(cronJob)-\(Int64(scheduled.timeIntervalSince1970) / 60)"
    }

    /// Go's RFC1123Z layout, as upstream's MissSchedule message shows the time.
    static func rfc1123Z(_ date: Date, _ zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return f.string(from: date)
    }

    /// RFC 3339 in the schedule's zone, as the scheduled-timestamp annotation carries it.
    static func rfc3339(_ date: Date, _ zone: TimeZone) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
