import Foundation
import KubeModel

/// What a PodDisruptionBudget's status should say, computed from the pods it selects and the
/// scale of their controllers, as Kubernetes' disruption controller computes it.
struct DisruptionBudgetStatus: Equatable {
    var expectedPods: Int
    var desiredHealthy: Int
    var currentHealthy: Int
    var disruptionsAllowed: Int
    /// Pods an eviction has spent budget on and that are not yet terminating.
    var disruptedPods: [String: String]
    /// When the oldest kept `disruptedPods` entry times out (the controller looks again then).
    var recheckAt: Date?

    /// How long an eviction's entry in `disruptedPods` keeps its pod out of the healthy count
    /// when the pod never starts terminating.
    static let deletionTimeout: TimeInterval = 120

    enum Failure: Error, Equatable {
        /// A percentage or maxUnavailable needs the controllers' scale, and a pod has none.
        case noController(pod: String)
        case unknownController(kind: String, name: String)
    }

    /// The pods of `namespace` the budget's selector picks (policy/v1: `{}` picks every pod,
    /// a null selector none).
    static func selectedPods(_ budget: JSONValue, pods: [JSONValue]) -> [JSONValue] {
        guard let raw = budget[path: ["spec", "selector"]], let selector = try? LabelSelector.fromJSON(raw) else { return [] }
        return pods.filter { selector.matches($0.labels) }
    }

    /// `scale(kind, namespace, name)` answers a controller's `spec.replicas`, nil if unknown.
    static func compute(budget: JSONValue, pods: [JSONValue], now: Date,
                        scale: (JSONValue) -> Int?) throws(Failure) -> DisruptionBudgetStatus {
        let spec = budget["spec"] ?? .object([:])
        var expected = pods.count
        var desired = 0
        if let maxUnavailable = spec["maxUnavailable"], !maxUnavailable.isNull {
            expected = try expectedScale(pods, scale: scale)
            desired = max(0, expected - scaled(maxUnavailable, of: expected))
        } else if let minAvailable = spec["minAvailable"], !minAvailable.isNull {
            if let n = minAvailable.intValue {
                desired = Int(n)
            } else {
                expected = try expectedScale(pods, scale: scale)
                desired = scaled(minAvailable, of: expected)
            }
        }
        let (disrupted, recheck) = liveDisruptions(budget[path: ["status", "disruptedPods"]], pods: pods, now: now)
        let healthy = pods.filter { pod in
            ObjectRules.isReady(pod) && !ObjectRules.isTerminating(pod) && disrupted[pod.name ?? ""] == nil
        }.count
        return DisruptionBudgetStatus(expectedPods: expected, desiredHealthy: desired, currentHealthy: healthy,
                                      disruptionsAllowed: max(0, healthy - desired), disruptedPods: disrupted, recheckAt: recheck)
    }

    /// An int-or-percent of `total`, percentages rounded up.
    static func scaled(_ value: JSONValue, of total: Int) -> Int {
        if let n = value.intValue { return Int(n) }
        guard let s = value.stringValue, s.hasSuffix("%"), let p = Int(s.dropLast()) else { return 0 }
        return (p * total + 99) / 100
    }

    /// The sum of the replicas of the distinct controllers of `pods`.
    static func expectedScale(_ pods: [JSONValue], scale: (JSONValue) -> Int?) throws(Failure) -> Int {
        var seen = Set<String>()
        var total = 0
        for pod in pods {
            guard let ref = ObjectRules.controllerRef(of: pod) else { throw .noController(pod: pod.name ?? "") }
            let uid = ref["uid"]?.stringValue ?? ""
            guard seen.insert(uid).inserted else { continue }
            guard let replicas = scale(ref) else {
                throw .unknownController(kind: ref["kind"]?.stringValue ?? "", name: ref["name"]?.stringValue ?? "")
            }
            total += replicas
        }
        return total
    }

    /// The entries of `disruptedPods` still in force: the pod exists, is not terminating yet,
    /// and the eviction is younger than `deletionTimeout`.
    static func liveDisruptions(_ recorded: JSONValue?, pods: [JSONValue], now: Date) -> ([String: String], Date?) {
        let byName = Dictionary(pods.compactMap { p in p.name.map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
        var kept: [String: String] = [:]
        var recheck: Date?
        for (name, value) in recorded?.objectValue ?? [:] {
            guard let pod = byName[name], !ObjectRules.isTerminating(pod),
                  let text = value.stringValue, let at = Timestamp.parse(text) else { continue }
            let expires = at.addingTimeInterval(deletionTimeout)
            guard expires > now else { continue }
            kept[name] = text
            recheck = min(recheck ?? expires, expires)
        }
        return (kept, recheck)
    }

    /// The status object, keeping the DisruptionAllowed condition's transition time when its
    /// status does not change.
    func json(generation: Int64, previous: JSONValue?, now: Date) -> JSONValue {
        let allowed = disruptionsAllowed > 0
        let condition = Self.condition(status: allowed ? "True" : "False", reason: allowed ? "SufficientPods" : "InsufficientPods",
                                       message: "", generation: generation, previous: previous, now: now)
        return [
            "observedGeneration": .int(generation),
            "disruptedPods": .object(disruptedPods.mapValues { .string($0) }),
            "disruptionsAllowed": .int(Int64(disruptionsAllowed)),
            "currentHealthy": .int(Int64(currentHealthy)),
            "desiredHealthy": .int(Int64(desiredHealthy)),
            "expectedPods": .int(Int64(expectedPods)),
            "conditions": [condition],
        ]
    }

    /// The status when the budget cannot be computed: nothing may be disrupted.
    static func failSafe(generation: Int64, previous: JSONValue?, message: String, now: Date) -> JSONValue {
        var status = previous ?? .object([:])
        status["observedGeneration"] = .int(generation)
        status["disruptionsAllowed"] = .int(0)
        status["conditions"] = [condition(status: "False", reason: "SyncFailed", message: message, generation: generation,
                                          previous: previous, now: now)]
        return status
    }

    static func condition(status: String, reason: String, message: String, generation: Int64, previous: JSONValue?, now: Date) -> JSONValue {
        let old = previous?["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "DisruptionAllowed" }
        let since = old?["status"]?.stringValue == status ? (old?["lastTransitionTime"] ?? .string(Timestamp.format(now))) : .string(Timestamp.format(now))
        return ["type": "DisruptionAllowed", "status": .string(status), "reason": .string(reason), "message": .string(message),
                "observedGeneration": .int(generation), "lastTransitionTime": since]
    }
}
