import Foundation
import KubeModel

/// A Job's `podFailurePolicy`: the first rule matching a failed pod says what its failure
/// means (Kubernetes' `matchPodFailurePolicy`).
enum PodFailurePolicy {
    enum Action: Equatable, Sendable {
        /// Fail the whole Job at once, with the message saying why.
        case failJob(message: String)
        /// Fail the pod's index (with `backoffLimitPerIndex`).
        case failIndex
        /// Do not count the failure towards `backoffLimit`.
        case ignore
        /// Count it as usual (also when no rule matches).
        case count
    }

    static func action(for pod: JSONValue, policy: JSONValue?) -> Action {
        guard let rules = policy?["rules"]?.arrayValue else { return .count }
        for (index, rule) in rules.enumerated() {
            guard let match = matches(rule, pod) else { continue }
            switch rule["action"]?.stringValue {
            case "FailJob":
                return .failJob(message: "\(match) matching FailJob rule at index \(index)")
            case "FailIndex": return .failIndex
            case "Ignore": return .ignore
            default: return .count
            }
        }
        return .count
    }

    /// What in the pod matched the rule, as the message of a FailJob rule starts; nil when
    /// nothing does.
    private static func matches(_ rule: JSONValue, _ pod: JSONValue) -> String? {
        let podName = "\(pod.namespace ?? "")/\(pod.name ?? "")"
        if let req = rule["onExitCodes"], !req.isNull {
            let container = req["containerName"]?.stringValue
            let values = Set((req["values"]?.arrayValue ?? []).compactMap(\.intValue))
            let notIn = req["operator"]?.stringValue == "NotIn"
            let statuses = (pod[path: ["status", "initContainerStatuses"]]?.arrayValue ?? [])
                + (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [])
            for status in statuses {
                let name = status["name"]?.stringValue ?? ""
                if let container, container != name { continue }
                // Containers that succeeded are never what failed the pod.
                guard let code = status[path: ["state", "terminated", "exitCode"]]?.intValue, code != 0 else { continue }
                if values.contains(code) != notIn {
                    return "Container \(name) for pod \(podName) failed with exit code \(code)"
                }
            }
            return nil
        }
        for pattern in rule["onPodConditions"]?.arrayValue ?? [] {
            let type = pattern["type"]?.stringValue ?? ""
            let wanted = pattern["status"]?.stringValue ?? "True"
            if let condition = ObjectRules.condition(pod, type), condition["status"]?.stringValue == wanted {
                return "Pod \(podName) has condition \(type)"
            }
        }
        return nil
    }
}
