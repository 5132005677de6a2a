import Foundation
import KubeModel

/// One reconcile's decision for a StatefulSet (Kubernetes' `updateStatefulSet`), as a pure
/// function of the set, its pods and its two revisions:
/// - pods at ordinals `[start, start+replicas)` are created when missing (ordinals below the
///   partition from the current revision, the rest from the update revision) and recreated when
///   failed; OrderedReady goes one at a time, each Running and Ready (and available) before the
///   next, Parallel creates them all;
/// - pods past the end are deleted from the highest ordinal down (OrderedReady: one at a time,
///   only while every other pod is healthy);
/// - RollingUpdate then deletes the highest-ordinal pods (≥ partition) not at the update
///   revision, up to maxUnavailable (1 by default) unavailable at a time; they come back at
///   the update revision. OnDelete leaves that to the user.
struct StatefulSetPlan {
    enum Step: Equatable {
        case create(ordinal: Int, fromUpdateRevision: Bool)
        case delete(JSONValue)
    }

    let set: JSONValue
    /// Pods of the set by ordinal.
    let pods: [Int: JSONValue]
    let currentRevision: String
    let updateRevision: String
    let now: Date

    init(set: JSONValue, pods: [JSONValue], currentRevision: String, updateRevision: String, now: Date) {
        self.set = set
        var byOrdinal: [Int: JSONValue] = [:]
        for pod in pods {
            if let i = StatefulPodIdentity.ordinal(of: pod, set: set.name ?? "") { byOrdinal[i] = pod }
        }
        self.pods = byOrdinal
        self.currentRevision = currentRevision
        self.updateRevision = updateRevision
        self.now = now
    }

    /// Steps one reconcile takes at most (as the replicaset controller's burst).
    static let burst = 500

    // Both are int32 in the API; clamped so that no stored value can overflow the arithmetic.
    var replicas: Int { min(max(0, ObjectRules.int(self.set[path: ["spec", "replicas"]], default: 1)), Int(Int32.max)) }
    var start: Int { min(max(0, ObjectRules.int(self.set[path: ["spec", "ordinals", "start"]])), Int(Int32.max)) }
    var range: Range<Int> { start..<(start + replicas) }
    var monotonic: Bool { self.set[path: ["spec", "podManagementPolicy"]]?.stringValue != "Parallel" }
    var rollingUpdate: Bool { self.set[path: ["spec", "updateStrategy", "type"]]?.stringValue != "OnDelete" }
    var partition: Int { min(max(0, ObjectRules.int(self.set[path: ["spec", "updateStrategy", "rollingUpdate", "partition"]])), Int(Int32.max)) }
    var minReadySeconds: Int { ObjectRules.int(self.set[path: ["spec", "minReadySeconds"]]) }

    static func revision(of pod: JSONValue) -> String { pod.labels[ControllerHistory.podHashLabel] ?? "" }
    static func isFailed(_ pod: JSONValue) -> Bool { pod[path: ["status", "phase"]]?.stringValue == "Failed" }
    static func isRunningAndReady(_ pod: JSONValue) -> Bool {
        pod[path: ["status", "phase"]]?.stringValue == "Running" && ObjectRules.isReady(pod)
    }
    func isHealthy(_ pod: JSONValue) -> Bool {
        Self.isRunningAndReady(pod) && ObjectRules.isAvailable(pod, minReadySeconds: minReadySeconds, now: now)
    }

    /// Whether a new pod at `ordinal` takes the update revision's template.
    func usesUpdateRevision(_ ordinal: Int) -> Bool {
        !(rollingUpdate && ordinal < start + partition)
    }

    /// The steps of this round, in order.
    func steps() -> [Step] {
        var steps: [Step] = []
        // Replicas: create missing, replace failed.
        for i in range {
            if steps.count >= Self.burst { return steps }
            guard let pod = pods[i] else {
                steps.append(.create(ordinal: i, fromUpdateRevision: usesUpdateRevision(i)))
                if monotonic { return steps }
                continue
            }
            if Self.isFailed(pod), !ObjectRules.isTerminating(pod) {
                steps.append(.delete(pod))
                if monotonic { return steps }
                continue
            }
            if monotonic && (ObjectRules.isTerminating(pod) || !isHealthy(pod)) { return steps }
        }
        // Condemned: past the end, highest first.
        let condemned = pods.keys.filter { !range.contains($0) }.sorted(by: >).compactMap { pods[$0] }
        for pod in condemned {
            if ObjectRules.isTerminating(pod) {
                if monotonic { return steps }
                continue
            }
            steps.append(.delete(pod))
            if monotonic { return steps }
        }
        if !steps.isEmpty || !rollingUpdate { return steps }
        return steps + rolloutSteps()
    }

    /// RollingUpdate: replace pods at or above the partition not at the update revision,
    /// highest ordinal first, within maxUnavailable.
    func rolloutSteps() -> [Step] {
        let maxUnavailable = RollingUpdateMath.scaledValue(
            set[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]], total: replicas, roundUp: false).map { max(1, $0) } ?? 1
        let targets = range.filter { $0 >= start + partition }
        var unavailable = targets.filter { i in pods[i].map { !isHealthy($0) || ObjectRules.isTerminating($0) } ?? true }.count
        var steps: [Step] = []
        for i in targets.reversed() {
            guard let pod = pods[i], Self.revision(of: pod) != updateRevision, !ObjectRules.isTerminating(pod) else { continue }
            if !isHealthy(pod) {
                // Already unavailable: replacing it costs nothing.
                steps.append(.delete(pod))
                continue
            }
            guard unavailable < maxUnavailable else { break }
            unavailable += 1
            steps.append(.delete(pod))
        }
        return steps
    }
}
