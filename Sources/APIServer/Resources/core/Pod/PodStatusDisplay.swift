import Foundation
import KubeModel

extension PodStrategy {
    /// READY, STATUS and RESTARTS cells, following kubectl's `printPod`.
    struct PodRow: Equatable {
        var ready: String
        var status: String
        var restarts: String
    }

    static func podRow(_ pod: JSONValue, now: Date) -> PodRow {
        let spec = pod["spec"] ?? .object([:])
        let status = pod["status"] ?? .object([:])
        let initContainers = K.array(spec["initContainers"])
        let restartableInit = Set(initContainers.filter { K.string($0["restartPolicy"]) == "Always" }.map { K.string($0["name"]) })
        var ready = 0
        var restarts: Int64 = 0
        var restartableRestarts: Int64 = 0
        var lastRestart: Date?
        var lastRestartableRestart: Date?
        let phase = K.string(status["phase"])
        var reason = K.string(status["reason"]).isEmpty ? phase : K.string(status["reason"])

        let conditions = K.array(status["conditions"])
        if conditions.contains(where: { K.string($0["type"]) == "PodScheduled" && K.string($0["reason"]) == "SchedulingGated" }) {
            reason = "SchedulingGated"
        }

        func finishedAt(_ cs: JSONValue) -> Date? {
            cs[path: ["lastState", "terminated", "finishedAt"]]?.stringValue.flatMap(Timestamp.parse)
        }
        func later(_ a: Date?, _ b: Date?) -> Date? {
            guard let b else { return a }
            guard let a else { return b }
            return max(a, b)
        }

        var initializing = false
        let initStatuses = K.array(status["initContainerStatuses"])
        for (i, cs) in initStatuses.enumerated() {
            let count = K.int(cs["restartCount"])
            restarts += count
            lastRestart = later(lastRestart, finishedAt(cs))
            let isRestartable = restartableInit.contains(K.string(cs["name"]))
            if isRestartable {
                restartableRestarts += count
                lastRestartableRestart = later(lastRestartableRestart, finishedAt(cs))
            }
            let terminated = cs[path: ["state", "terminated"]]
            let waiting = cs[path: ["state", "waiting"]]
            if let t = terminated, K.int(t["exitCode"]) == 0 { continue }
            if isRestartable && cs["started"]?.boolValue == true {
                if cs["ready"]?.boolValue == true { ready += 1 }
                continue
            }
            if let t = terminated {
                let r = K.string(t["reason"])
                if r.isEmpty {
                    let sig = K.int(t["signal"])
                    reason = sig != 0 ? "Init:Signal:\(sig)" : "Init:ExitCode:\(K.int(t["exitCode"]))"
                } else {
                    reason = "Init:" + r
                }
            } else if let w = waiting, !K.string(w["reason"]).isEmpty, K.string(w["reason"]) != "PodInitializing" {
                reason = "Init:" + K.string(w["reason"])
            } else {
                reason = "Init:\(i)/\(initContainers.count)"
            }
            initializing = true
            break
        }

        let initialized = conditions.contains { K.string($0["type"]) == "Initialized" && K.string($0["status"]) == "True" }
        if !initializing || initialized {
            restarts = restartableRestarts
            lastRestart = lastRestartableRestart
            var hasRunning = false
            for cs in K.array(status["containerStatuses"]).reversed() {
                restarts += K.int(cs["restartCount"])
                lastRestart = later(lastRestart, finishedAt(cs))
                let waiting = cs[path: ["state", "waiting"]]
                let terminated = cs[path: ["state", "terminated"]]
                if let w = waiting, !K.string(w["reason"]).isEmpty {
                    reason = K.string(w["reason"])
                } else if let t = terminated, !K.string(t["reason"]).isEmpty {
                    reason = K.string(t["reason"])
                } else if let t = terminated {
                    let sig = K.int(t["signal"])
                    reason = sig != 0 ? "Signal:\(sig)" : "ExitCode:\(K.int(t["exitCode"]))"
                } else if cs["ready"]?.boolValue == true, cs[path: ["state", "running"]] != nil {
                    hasRunning = true
                    ready += 1
                }
            }
            if reason == "Completed" && hasRunning {
                let podReady = conditions.contains { K.string($0["type"]) == "Ready" && K.string($0["status"]) == "True" }
                reason = podReady ? "Running" : "NotReady"
            }
        }

        let deleting = pod[path: ["metadata", "deletionTimestamp"]].map { !$0.isNull } ?? false
        if deleting && K.string(status["reason"]) == "NodeLost" {
            reason = "Unknown"
        } else if deleting && phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating"
        }

        var restartsText = String(restarts)
        if restarts != 0, let last = lastRestart {
            restartsText = "\(restarts) (\(TableFormat.humanDuration(now.timeIntervalSince(last))) ago)"
        }
        let total = K.array(spec["containers"]).count + restartableInit.count
        return PodRow(ready: "\(ready)/\(total)", status: reason, restarts: restartsText)
    }

    /// `GetPodQOS`: Guaranteed when every container limits cpu and memory and requests equal
    /// limits, BestEffort when nothing is requested or limited, else Burstable.
    static func qosClass(_ spec: JSONValue?) -> String {
        var requests: [String: Int64] = [:]
        var limits: [String: Int64] = [:]
        var guaranteed = true
        let containers = K.array(spec?["containers"]) + K.array(spec?["initContainers"])
        func quantity(_ v: JSONValue) -> Quantity? {
            Quantity.parse(v.stringValue ?? v.intValue.map(String.init) ?? v.doubleValue.map { String($0) } ?? "")
        }
        for c in containers {
            for (name, v) in c[path: ["resources", "requests"]]?.objectValue ?? [:] where name == "cpu" || name == "memory" {
                if let q = quantity(v), q.mantissa > 0 { requests[name, default: 0] &+= q.milliValue }
            }
            var found = Set<String>()
            for (name, v) in c[path: ["resources", "limits"]]?.objectValue ?? [:] where name == "cpu" || name == "memory" {
                if let q = quantity(v), q.mantissa > 0 {
                    found.insert(name)
                    limits[name, default: 0] &+= q.milliValue
                }
            }
            if found.count < 2 { guaranteed = false }
        }
        if requests.isEmpty && limits.isEmpty { return "BestEffort" }
        if guaranteed {
            for (name, r) in requests where limits[name] != r { guaranteed = false }
        }
        return guaranteed && requests.count == limits.count ? "Guaranteed" : "Burstable"
    }
}
