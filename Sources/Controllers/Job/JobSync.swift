import Foundation
import KubeModel

/// One reconcile's view of a Job: its spec read once, and the status being built.
struct JobSync {
    enum Outcome: Equatable { case succeeded, failed }

    struct Event: Equatable {
        var type: String
        var reason: String
        var message: String
    }

    var job: JSONValue
    var status: JSONValue
    let now: Date
    /// Events to record once the status is written.
    var pendingEvents: [Event] = []

    init(job: JSONValue, now: Date) {
        self.job = job
        self.now = now
        var status = job["status"] ?? .object([:])
        if status.objectValue == nil { status = .object([:]) }
        if status["uncountedTerminatedPods"]?.objectValue == nil { status["uncountedTerminatedPods"] = .object([:]) }
        self.status = status
    }

    var spec: JSONValue { job["spec"] ?? .object([:]) }
    var indexed: Bool { spec["completionMode"]?.stringValue == "Indexed" }
    var completions: Int? { spec["completions"]?.intValue.map { Int($0) } }
    var parallelism: Int { ObjectRules.int(spec["parallelism"], default: 1) }
    var backoffLimit: Int { ObjectRules.int(spec["backoffLimit"], default: 6) }
    var perIndexLimit: Int? { spec["backoffLimitPerIndex"]?.intValue.map { Int($0) } }
    var suspended: Bool { spec["suspend"]?.boolValue == true }
    /// `podReplacementPolicy: Failed`: a replacement waits until the old pod is gone.
    var replaceOnlyFailed: Bool { spec["podReplacementPolicy"]?.stringValue == "Failed" }

    // MARK: status fields

    var conditions: [JSONValue] {
        get { status["conditions"]?.arrayValue ?? [] }
        set { status["conditions"] = .array(newValue) }
    }

    func holds(_ type: String) -> Bool { JobConditions.holds(conditions, type) }

    mutating func setCondition(_ type: String, _ value: Bool, reason: String, message: String) {
        var c = conditions
        JobConditions.set(&c, type: type, status: value, reason: reason, message: message, now: now)
        conditions = c
    }

    func count(_ field: String) -> Int { ObjectRules.int(status[field]) }

    /// Sets a counter; `active`, `succeeded` and `failed` are left out at zero, as the API omits them.
    mutating func setCount(_ field: String, _ value: Int) {
        let omitted = ["active", "succeeded", "failed"].contains(field)
        status[field] = value == 0 && omitted ? nil : .int(Int64(value))
    }

    func uncounted(_ list: String) -> [String] {
        (status[path: ["uncountedTerminatedPods", list]]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    mutating func setUncounted(_ list: String, _ uids: Set<String>) {
        var u = status["uncountedTerminatedPods"]?.objectValue ?? [:]
        u[list] = uids.isEmpty ? nil : .array(uids.sorted().map { .string($0) })
        status["uncountedTerminatedPods"] = .object(u)
    }

    func indexes(_ field: String) -> IndexSet {
        JobIndexes.parse(status[field]?.stringValue ?? "", below: completions ?? 0) ?? IndexSet()
    }

    mutating func setIndexes(_ field: String, _ set: IndexSet) {
        status[field] = set.isEmpty ? nil : .string(JobIndexes.format(set))
    }

    mutating func event(_ reason: String, _ message: String, warning: Bool = false) {
        pendingEvents.append(Event(type: warning ? "Warning" : "Normal", reason: reason, message: message))
    }

    // MARK: pods

    /// How a pod of this Job ended: Succeeded, Failed, or deleted before succeeding (which
    /// counts as a failure).
    func outcome(of pod: JSONValue) -> Outcome? {
        switch pod[path: ["status", "phase"]]?.stringValue {
        case "Succeeded": return .succeeded
        case "Failed": return .failed
        default: return ObjectRules.isTerminating(pod) ? .failed : nil
        }
    }

    func index(of pod: JSONValue) -> Int? {
        indexed ? JobPodTemplate.index(of: pod, completions: completions ?? 0) : nil
    }
}
