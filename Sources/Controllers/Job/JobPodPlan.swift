import Foundation
import KubeModel

/// Which pods a running Job creates (nil, or an index in Indexed mode) and deletes.
struct JobPodPlan {
    var create: [Int?] = []
    var delete: [JSONValue] = []

    /// Up to `parallelism` pods while `completions` are missing; a work queue (no
    /// completions) stops creating once one pod succeeded.
    static func nonIndexed(_ sync: JobSync, active: [JSONValue], terminating: [JSONValue]) -> JobPodPlan {
        let succeeded = sync.count("succeeded") + sync.uncounted("succeeded").count
        let want: Int
        if let completions = sync.completions {
            want = max(0, min(completions - succeeded, sync.parallelism))
        } else {
            want = succeeded > 0 ? active.count : sync.parallelism
        }
        var plan = JobPodPlan()
        if active.count > want {
            plan.delete = Array(PodDeletionOrder.sorted(active).prefix(min(active.count - want, JobController.burst)))
        } else {
            let occupied = active.count + (sync.replaceOnlyFailed ? terminating.count : 0)
            if occupied < want { plan.create = Array(repeating: nil, count: min(want - occupied, JobController.burst)) }
        }
        return plan
    }

    /// One pod per index neither completed, failed nor running, lowest first, up to
    /// `parallelism`; duplicates and pods without a valid index are deleted.
    static func indexed(_ sync: JobSync, active: [JSONValue], terminating: [JSONValue]) -> JobPodPlan {
        let completions = sync.completions ?? 0
        let completed = sync.indexes("completedIndexes")
        var taken = completed.union(sync.indexes("failedIndexes"))
        var plan = JobPodPlan()
        var kept: [(Int, JSONValue)] = []
        let oldestFirst = active.sorted { (ObjectRules.creationTime($0) ?? .distantPast) < (ObjectRules.creationTime($1) ?? .distantPast) }
        var running = IndexSet()
        for pod in oldestFirst {
            guard let i = sync.index(of: pod), !completed.contains(i), !running.contains(i) else {
                plan.delete.append(pod)
                continue
            }
            running.insert(i)
            kept.append((i, pod))
        }
        if kept.count > sync.parallelism {
            let surplus = kept.sorted { $0.0 > $1.0 }.prefix(kept.count - sync.parallelism)
            plan.delete += surplus.map(\.1)
            kept.removeAll { entry in surplus.contains { $0.0 == entry.0 } }
        }
        taken.formUnion(IndexSet(kept.map(\.0)))
        if sync.replaceOnlyFailed { taken.formUnion(IndexSet(terminating.compactMap { sync.index(of: $0) })) }
        var slots = min(sync.parallelism - kept.count, JobController.burst)
        var i = 0
        while slots > 0 && i < completions {
            if !taken.contains(i) {
                plan.create.append(i)
                slots -= 1
            }
            i += 1
        }
        return plan
    }
}
