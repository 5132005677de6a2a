import Foundation
import KubeModel

/// Computes a pod's `status` from what the worker observed, as the kubelet reports it: phase,
/// conditions, IPs and container statuses. Pure, so it is unit-tested without processes.
struct PodStatusBuilder {
    var pod: JSONValue
    var initSlots: [ContainerSlot]
    var appSlots: [ContainerSlot]
    var hostIP: String
    var podIP: String?
    var sandboxReady: Bool
    var now: Date = Date()

    /// Everything `build` reads but the previous status and the clock: the same inputs and the
    /// same previous status build the same status, so a worker that found nothing to write
    /// need not build again until one of these moves (the pod's changes move its
    /// resourceVersion).
    struct Inputs: Equatable {
        var podUID: String?
        var podVersion: String?
        var slots: [ContainerSlot.StatusKey]
        var hostIP: String
        var podIP: String?
        var sandboxReady: Bool
    }

    var inputs: Inputs {
        Inputs(podUID: pod.uid, podVersion: pod.resourceVersion, slots: (initSlots + appSlots).map(\.statusKey),
               hostIP: hostIP, podIP: podIP, sandboxReady: sandboxReady)
    }

    var restartPolicy: String { pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always" }

    /// Init containers that finished with exit 0, in order, before the first one that did not.
    var initialized: Bool { initSlots.allSatisfy { $0.exit?.code == 0 } }

    var phase: String {
        if initSlots.contains(where: { ($0.exit.map { $0.code != 0 } ?? false) && $0.waiting == nil })
            && restartPolicy == "Never" { return "Failed" }
        if !initialized { return "Pending" }
        var running = 0, neverRan = 0, succeeded = 0, failed = 0
        for slot in appSlots {
            if slot.isRunning { running += 1 }
            else if let exit = slot.exit { if exit.code == 0 { succeeded += 1 } else { failed += 1 } }
            else if slot.lastTerminated != nil { failed += 1 }
            else { neverRan += 1 }
        }
        if neverRan > 0 { return "Pending" }
        if running > 0 { return "Running" }
        switch restartPolicy {
        case "Always": return "Running"
        case "OnFailure": return failed > 0 ? "Running" : "Succeeded"
        default: return failed > 0 ? "Failed" : "Succeeded"
        }
    }

    /// The whole `status` object; condition transition times carry over from `previous`.
    func build(previous: JSONValue?) -> JSONValue {
        let image = { (slot: ContainerSlot) in slot.spec["image"]?.stringValue ?? "" }
        let unready = appSlots.filter { !$0.ready }.map(\.name)
        let containersReady = unready.isEmpty
        let phase = phase
        let terminal = phase == "Succeeded" || phase == "Failed"
        var conditions: [JSONValue] = []
        conditions.append(condition("PodReadyToStartContainers", sandboxReady && !terminal, previous: previous))
        conditions.append(condition("Initialized", initialized, previous: previous,
                                    reason: "ContainersNotInitialized",
                                    message: "containers with incomplete status: [\(initSlots.filter { $0.exit?.code != 0 }.map(\.name).joined(separator: " "))]"))
        let notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        let notReadyMessage = "containers with unready status: [\(unready.joined(separator: " "))]"
        conditions.append(condition("ContainersReady", containersReady && !terminal, previous: previous,
                                    reason: notReadyReason, message: notReadyMessage))
        conditions.append(condition("Ready", containersReady && !terminal, previous: previous,
                                    reason: notReadyReason, message: notReadyMessage))
        if let scheduled = (previous?["conditions"]?.arrayValue ?? []).first(where: { $0["type"]?.stringValue == "PodScheduled" }) {
            conditions.append(scheduled)
        } else {
            conditions.append(condition("PodScheduled", true, previous: previous))
        }
        var status: JSONValue = [
            "phase": .string(phase), "conditions": .array(conditions),
            "hostIP": .string(hostIP), "hostIPs": [["ip": .string(hostIP)]],
            "containerStatuses": .array(appSlots.map { $0.status(image: image($0)) }),
            "qosClass": .string(Self.qosClass(pod)),
            "startTime": previous?["startTime"] ?? .string(Timestamp.format(now)),
        ]
        if !initSlots.isEmpty { status["initContainerStatuses"] = .array(initSlots.map { $0.status(image: image($0)) }) }
        if let podIP {
            status["podIP"] = .string(podIP)
            status["podIPs"] = [["ip": .string(podIP)]]
        }
        if let nominated = previous?["nominatedNodeName"] { status["nominatedNodeName"] = nominated }
        return status
    }

    private func condition(_ type: String, _ value: Bool, previous: JSONValue?, reason: String? = nil,
                           message: String? = nil) -> JSONValue {
        let text = value ? "True" : "False"
        let old = (previous?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
        let since = old?["status"]?.stringValue == text ? old?["lastTransitionTime"] : nil
        var c: JSONValue = [
            "type": .string(type), "status": .string(text), "lastProbeTime": .null,
            "lastTransitionTime": since ?? .string(Timestamp.format(now)),
        ]
        if !value, let reason {
            c["reason"] = .string(reason)
            if let message { c["message"] = .string(message) }
        }
        return c
    }

    /// Guaranteed when every container has equal cpu and memory requests and limits,
    /// BestEffort when none sets any, else Burstable.
    static func qosClass(_ pod: JSONValue) -> String {
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []) + (pod[path: ["spec", "initContainers"]]?.arrayValue ?? [])
        var anySet = false, guaranteed = true
        for c in containers {
            let limits = c[path: ["resources", "limits"]]?.objectValue ?? [:]
            let requests = c[path: ["resources", "requests"]]?.objectValue ?? [:]
            if !limits.isEmpty || !requests.isEmpty { anySet = true }
            for r in ["cpu", "memory"] {
                guard let limit = limits[r]?.stringValue.flatMap(Quantity.parse) else { guaranteed = false; continue }
                if let request = requests[r]?.stringValue.flatMap(Quantity.parse), request != limit { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    /// Equal apart from timestamps that move on every sync: decides whether to write.
    static func sameStatus(_ a: JSONValue?, _ b: JSONValue) -> Bool {
        a.map(stripVolatile) == stripVolatile(b)
    }

    private static func stripVolatile(_ s: JSONValue) -> JSONValue {
        var s = s
        s["startTime"] = nil
        if let conds = s["conditions"]?.arrayValue {
            s["conditions"] = .array(conds.map { var c = $0; c["lastTransitionTime"] = nil; c["lastProbeTime"] = nil; return c }
                .sorted { ($0["type"]?.stringValue ?? "") < ($1["type"]?.stringValue ?? "") })
        }
        return s
    }
}
