import Foundation
import KubeModel

/// What the node sees of its own health at one moment.
public struct NodePressure: Sendable, Equatable {
    public var memory: Bool
    public var disk: Bool
    public var pids: Bool

    public init(memory: Bool = false, disk: Bool = false, pids: Bool = false) {
        self.memory = memory
        self.disk = disk
        self.pids = pids
    }

    /// The kubelet's hard eviction thresholds: MemAvailable < 100Mi, < 10% free on the
    /// filesystem of `rootDirectory`, pids in use > 90% of pid_max. Unreadable sources count
    /// as no pressure.
    public static func observe(rootDirectory: String) -> NodePressure {
        let memory = HostProbe.meminfo()["MemAvailable"].map { $0 < 100 << 20 } ?? false
        let disk = HostProbe.filesystem(rootDirectory).map { fs in
            fs.totalBytes > 0 && fs.availableBytes * 10 < fs.totalBytes
        } ?? false
        let pids = HostProbe.pids().map { $0.inUse * 10 > $0.max * 9 } ?? false
        return NodePressure(memory: memory, disk: disk, pids: pids)
    }
}

/// The four node conditions the kubelet owns, built so that `lastTransitionTime` moves only
/// when a condition's status flips and `lastHeartbeatTime` moves on every report.
enum NodeConditions {
    struct Desired: Equatable {
        var type: String
        var status: Bool
        var reason: String
        var message: String
    }

    static func desired(readiness: NodeReadiness, pressure: NodePressure) -> [Desired] {
        let ready = readiness.isReady
        return [
            Desired(type: "MemoryPressure", status: pressure.memory,
                    reason: pressure.memory ? "KubeletHasInsufficientMemory" : "KubeletHasSufficientMemory",
                    message: pressure.memory ? "kubelet has insufficient memory available" : "kubelet has sufficient memory available"),
            Desired(type: "DiskPressure", status: pressure.disk,
                    reason: pressure.disk ? "KubeletHasDiskPressure" : "KubeletHasNoDiskPressure",
                    message: pressure.disk ? "kubelet has disk pressure" : "kubelet has no disk pressure"),
            Desired(type: "PIDPressure", status: pressure.pids,
                    reason: pressure.pids ? "KubeletHasInsufficientPID" : "KubeletHasSufficientPID",
                    message: pressure.pids ? "kubelet has insufficient PID available" : "kubelet has sufficient PID available"),
            Desired(type: "Ready", status: ready,
                    reason: ready ? "KubeletReady" : "KubeletNotReady",
                    message: readiness.message),
        ]
    }

    /// The conditions to post, given those stored on the node now: each keeps its stored
    /// transition time while its status is unchanged (a node the lifecycle controller marked
    /// Unknown flips back, so it gets a new one).
    static func merge(_ desired: [Desired], current: [JSONValue], now: Date) -> [JSONValue] {
        let stamp = Timestamp.format(now)
        return desired.map { d in
            let status = d.status ? "True" : "False"
            let old = current.first { $0["type"]?.stringValue == d.type }
            let transition = old.flatMap { o in
                o["status"]?.stringValue == status ? o["lastTransitionTime"]?.stringValue : nil
            } ?? stamp
            return [
                "type": .string(d.type), "status": .string(status), "reason": .string(d.reason),
                "message": .string(d.message), "lastHeartbeatTime": .string(stamp),
                "lastTransitionTime": .string(transition),
            ]
        }
    }
}
