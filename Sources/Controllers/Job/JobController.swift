import Foundation
import KubeClient
import KubeModel

/// Runs each Job's pods to completion (Kubernetes' job controller): creates pods up to
/// `parallelism` until `completions` succeed (or, in Indexed mode, one per index), counts
/// finished pods before releasing their tracking finalizer, backs off after failures,
/// applies `podFailurePolicy`, `successPolicy`, `backoffLimit`, `activeDeadlineSeconds` and
/// `suspend`, and reports it all through `/status` with the Job's conditions.
public struct JobController: Reconciler {
    static let resource = ResourcePath(group: "batch", version: "v1", plural: "jobs")
    static let podResource = ResourcePath.core("pods")
    /// Pods created or deleted by one reconcile at most.
    static let burst = 500

    let client: any ResourceClient
    let jobs: ObjectCache
    let pods: ObjectCache
    let expectations: Expectations
    let ledger: JobWriteLedger
    let now: @Sendable () -> Date
    /// Folds this controller's repeated events into counts, for the controller's lifetime.
    let correlator = EventCorrelator()
    var recorder: EventRecorder { EventRecorder(client: client, component: "job-controller", correlator: correlator) }

    init(client: any ResourceClient, jobs: ObjectCache, pods: ObjectCache, expectations: Expectations = Expectations(),
         ledger: JobWriteLedger = JobWriteLedger(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.jobs = jobs
        self.pods = pods
        self.expectations = expectations
        self.ledger = ledger
        self.now = now
    }

    /// Watches Jobs and pods: a pod wakes the Job controlling it (also a Job already gone,
    /// so that its pods' finalizers are released).
    static func descriptor(client: any ResourceClient, workers: Int) -> ControllerDescriptor {
        ControllerDescriptor(name: "job", workers: workers) { wiring in
            let expectations = Expectations()
            let jobs = wiring.cache(resource)
            wiring.watchOwn(resource)
            wiring.watch(podResource, ControllerEvents.dependentHandler(ownerKind: "Job", owners: jobs,
                                                                        expectations: expectations, enqueue: wiring.enqueue))
            return JobController(client: client, jobs: jobs, pods: wiring.cache(podResource), expectations: expectations)
        }
    }

    public func reconcile(key: String) async throws -> ReconcileResult {
        let namespace = ObjectCache.split(key).namespace ?? ""
        guard let job = jobs.get(key), let uid = job.uid else {
            await expectations.remove(key)
            await ledger.forget(key)
            try await releaseOrphans(namespace: namespace, jobName: ObjectCache.split(key).name)
            return .done
        }
        // Our last status write has not reached the cache: its event will bring the key back.
        if await ledger.isStale(key, resourceVersion: job.resourceVersion) { return .done }
        let owned = pods.list(namespace: namespace).filter { ObjectRules.controllerRef(of: $0)?["uid"]?.stringValue == uid }
        if ObjectRules.isTerminating(job) || JobConditions.isFinished(job) {
            try await removeFinalizers(owned.filter(JobPodTemplate.hasTrackingFinalizer), key: key)
            return .done
        }
        var sync = JobSync(job: job, now: now())
        var firstError: (any Error)?
        do { try await track(&sync, owned: owned, key: key) } catch { firstError = error }
        let wait = try await manage(&sync, owned: owned, key: key)
        try await finish(&sync)
        if let firstError { throw firstError }
        return wait.map { .requeue(after: .milliseconds(Int64(max(1, $0) * 1000))) } ?? .done
    }

    /// Writes `status` through `/status` under the Job's resourceVersion (a concurrent write
    /// is a conflict and a retry, never a lost count); returns the stored Job.
    func writeStatus(_ sync: inout JobSync) async throws {
        guard sync.status != sync.job["status"] else { return }
        var body = sync.job
        body["status"] = sync.status
        var path = Self.resource.inNamespace(sync.job.namespace).named(sync.job.name ?? "")
        path.subresource = "status"
        let stored = try await client.update(path.path, body)
        await ledger.recordStatusWrite(ObjectCache.key(of: sync.job) ?? "", resourceVersion: stored.resourceVersion)
        sync.job = stored
        sync.status = stored["status"] ?? sync.status
    }

    /// Conditions, counts and times once pods were managed; events for new conditions.
    private func finish(_ sync: inout JobSync) async throws {
        let events = sync.pendingEvents
        sync.pendingEvents = []
        try await writeStatus(&sync)
        for event in events {
            await recorder.record(sync.job, apiVersion: "batch/v1", kind: "Job", type: event.type, reason: event.reason, message: event.message)
        }
    }
}
