import Foundation
import KubeModel

/// Whether a running Job has failed or met its success criteria, with the reason and
/// message of its FailureTarget or SuccessCriteriaMet condition.
enum JobVerdict {
    static func failure(_ sync: JobSync, active: [JSONValue]) -> (String, String)? {
        let failed = sync.count("failed") + sync.uncounted("failed").count
        if failed > sync.backoffLimit || pastBackoffLimitOnFailure(sync, active: active) {
            return ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        }
        if sync.perIndexLimit != nil {
            let failedIndexes = sync.indexes("failedIndexes")
            if let max = sync.spec["maxFailedIndexes"]?.intValue, failedIndexes.count > Int(max) {
                return ("MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes")
            }
            let done = sync.indexes("completedIndexes").union(failedIndexes)
            if !failedIndexes.isEmpty, done.count >= (sync.completions ?? 0) {
                return ("FailedIndexes", "Job has failed indexes")
            }
        }
        if let deadline = deadline(sync), sync.now >= deadline {
            return ("DeadlineExceeded", "Job was active longer than specified deadline")
        }
        return nil
    }

    /// With `restartPolicy: OnFailure` failures are container restarts in running pods.
    private static func pastBackoffLimitOnFailure(_ sync: JobSync, active: [JSONValue]) -> Bool {
        guard sync.spec[path: ["template", "spec", "restartPolicy"]]?.stringValue == "OnFailure" else { return false }
        let restarts = active.reduce(0) { sum, pod in
            let statuses = (pod[path: ["status", "initContainerStatuses"]]?.arrayValue ?? [])
                + (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [])
            return sum + statuses.reduce(0) { $0 + ObjectRules.int($1["restartCount"]) }
        }
        return sync.backoffLimit == 0 ? restarts > 0 : restarts >= sync.backoffLimit
    }

    /// When `activeDeadlineSeconds` runs out, counted from `startTime`.
    static func deadline(_ sync: JobSync) -> Date? {
        guard let seconds = sync.spec["activeDeadlineSeconds"]?.intValue,
              let start = sync.status["startTime"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return start.addingTimeInterval(TimeInterval(seconds))
    }

    static func success(_ sync: JobSync, activeCount: Int) -> (String, String)? {
        let reached = ("CompletionsReached", "Reached expected number of succeeded pods")
        if sync.indexed {
            let completed = sync.indexes("completedIndexes")
            if let rule = matchedSuccessRule(sync, completed: completed) { return ("SuccessPolicy", "Matched rules at index \(rule)") }
            return completed.count >= (sync.completions ?? 0) ? reached : nil
        }
        let succeeded = sync.count("succeeded")
        if let completions = sync.completions { return succeeded >= completions ? reached : nil }
        // A work queue: done once a pod succeeded and the others finished.
        return succeeded > 0 && activeCount == 0 ? reached : nil
    }

    /// The first `successPolicy` rule the completed indexes satisfy.
    static func matchedSuccessRule(_ sync: JobSync, completed: IndexSet) -> Int? {
        let rules = sync.spec[path: ["successPolicy", "rules"]]?.arrayValue ?? []
        for (i, rule) in rules.enumerated() {
            let count = rule["succeededCount"]?.intValue.map { Int($0) }
            if let text = rule["succeededIndexes"]?.stringValue {
                guard let wanted = JobIndexes.parse(text, below: sync.completions ?? 0) else { continue }
                let met = wanted.intersection(completed).count
                if let count, met >= count { return i }
                if count == nil, met == wanted.count { return i }
            } else if let count, completed.count >= count {
                return i
            }
        }
        return nil
    }
}
