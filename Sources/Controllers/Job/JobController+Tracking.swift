import Foundation
import KubeClient
import KubeModel

extension JobController {
    /// Counts finished pods the way Kubernetes does, so that no pod is counted twice or lost:
    /// their uids go into `status.uncountedTerminatedPods` first (written), then their
    /// tracking finalizer is removed, then they move into `succeeded`/`failed` (and
    /// `completedIndexes`). A failure matching a FailJob rule sets FailureTarget with the
    /// first write.
    func track(_ sync: inout JobSync, owned: [JSONValue], key: String) async throws {
        let holding = Set(owned.filter(JobPodTemplate.hasTrackingFinalizer).compactMap(\.uid))
        let lagging = await ledger.pendingFinalizerRemovals(key, stillHolding: holding)
        var succeeded = Set(sync.uncounted("succeeded"))
        var failed = Set(sync.uncounted("failed"))
        var failedIndexes = sync.indexes("failedIndexes")
        var release: [JSONValue] = []
        var failJob: String?
        var recorded = false
        for pod in owned where JobPodTemplate.hasTrackingFinalizer(pod) {
            guard let uid = pod.uid, !lagging.contains(uid), let outcome = sync.outcome(of: pod) else { continue }
            release.append(pod)
            if succeeded.contains(uid) || failed.contains(uid) { continue }
            if outcome == .succeeded {
                succeeded.insert(uid)
                recorded = true
                continue
            }
            switch PodFailurePolicy.action(for: pod, policy: sync.spec["podFailurePolicy"]) {
            case .ignore: continue
            case .failJob(let message): failJob = failJob ?? message
            case .failIndex: if let i = sync.index(of: pod) { failedIndexes.insert(i) }
            case .count: break
            }
            failed.insert(uid)
            recorded = true
        }
        failedIndexes.formUnion(indexesPastPerIndexLimit(sync, owned: owned))

        if recorded || failedIndexes != sync.indexes("failedIndexes") || (failJob != nil && !sync.holds("FailureTarget")) {
            sync.setUncounted("succeeded", succeeded)
            sync.setUncounted("failed", failed)
            if sync.perIndexLimit != nil { sync.setIndexes("failedIndexes", failedIndexes) }
            if let failJob, !sync.holds("FailureTarget") {
                sync.setCondition("FailureTarget", true, reason: "PodFailurePolicy", message: failJob)
            }
            try await writeStatus(&sync)
        }

        var released = Set<String>()
        var firstError: (any Error)?
        for pod in release {
            do {
                try await removeFinalizer(pod, key: key)
                if let uid = pod.uid { released.insert(uid) }
            } catch { firstError = firstError ?? error }
        }
        let byUID = Dictionary(owned.compactMap { p in p.uid.map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
        let done = { (uid: String) in released.contains(uid) || !holding.contains(uid) }
        var completed = sync.indexes("completedIndexes")
        var newlySucceeded = 0
        for uid in succeeded where done(uid) {
            succeeded.remove(uid)
            newlySucceeded += 1
            if let pod = byUID[uid], let i = sync.index(of: pod), !failedIndexes.contains(i) { completed.insert(i) }
        }
        let newlyFailed = failed.filter(done).count
        failed.subtract(failed.filter(done))
        sync.setUncounted("succeeded", succeeded)
        sync.setUncounted("failed", failed)
        sync.setCount("failed", sync.count("failed") + newlyFailed)
        if sync.indexed {
            sync.setIndexes("completedIndexes", completed)
            sync.setCount("succeeded", completed.count)
        } else {
            sync.setCount("succeeded", sync.count("succeeded") + newlySucceeded)
        }
        if let firstError { throw firstError }
    }

    /// Indexes whose failed pods exceed `backoffLimitPerIndex`.
    private func indexesPastPerIndexLimit(_ sync: JobSync, owned: [JSONValue]) -> IndexSet {
        guard let limit = sync.perIndexLimit else { return IndexSet() }
        var failures: [Int: Int] = [:]
        for pod in owned where sync.outcome(of: pod) == .failed {
            if let i = sync.index(of: pod) { failures[i, default: 0] += 1 }
        }
        return IndexSet(failures.filter { $0.value > limit }.keys)
    }

    /// Removes the tracking finalizer with a JSON patch that first tests it is still there.
    func removeFinalizer(_ pod: JSONValue, key: String) async throws {
        let finalizers = pod[path: ["metadata", "finalizers"]]?.arrayValue ?? []
        guard let i = finalizers.firstIndex(of: .string(JobPodTemplate.trackingFinalizer)) else { return }
        let path = Self.podResource.inNamespace(pod.namespace).named(pod.name ?? "").path
        let patch: JSONValue = [
            ["op": "test", "path": .string("/metadata/finalizers/\(i)"), "value": .string(JobPodTemplate.trackingFinalizer)],
            ["op": "remove", "path": .string("/metadata/finalizers/\(i)")],
        ]
        do { _ = try await client.patch(path, patch, type: .json) } catch let e as KubeAPIError where e.isNotFound {}
        if let uid = pod.uid { await ledger.recordFinalizerRemoved(key, uid: uid) }
    }

    func removeFinalizers(_ pods: [JSONValue], key: String) async throws {
        var firstError: (any Error)?
        for pod in pods {
            do { try await removeFinalizer(pod, key: key) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// Pods of a Job that is gone keep no tracking finalizer (the garbage collector deletes them).
    func releaseOrphans(namespace: String, jobName: String) async throws {
        let orphans = pods.list(namespace: namespace).filter { pod in
            guard let ref = ObjectRules.controllerRef(of: pod), ref["kind"]?.stringValue == "Job",
                  ref["name"]?.stringValue == jobName else { return false }
            return JobPodTemplate.hasTrackingFinalizer(pod)
        }
        try await removeFinalizers(orphans, key: ObjectCache.key(namespace: namespace, name: jobName))
    }
}
