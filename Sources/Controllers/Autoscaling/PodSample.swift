import Foundation
import KubeModel

/// What the replica calculator needs to know of one pod targeted by an autoscaler: its
/// phase, whether it is going away, its Ready condition, when it started, and the resource
/// requests of its containers (restartable init containers included, as Kubernetes counts them).
struct PodSample: Sendable, Equatable {
    /// The pod's Ready condition.
    struct Readiness: Sendable, Equatable {
        /// `True`, `False` or `Unknown`.
        var status: String
        var lastTransition: Date
    }

    /// One container's requests in milli-units, by resource name.
    struct ContainerRequests: Sendable, Equatable {
        var name: String
        var requests: [String: Int64]
    }

    var name: String
    var phase: String
    var deleting: Bool
    var readiness: Readiness?
    var startTime: Date?
    var containers: [ContainerRequests]

    init(name: String, phase: String = "Running", deleting: Bool = false, readiness: Readiness? = nil,
         startTime: Date? = nil, containers: [ContainerRequests] = []) {
        self.name = name
        self.phase = phase
        self.deleting = deleting
        self.readiness = readiness
        self.startTime = startTime
        self.containers = containers
    }

    /// The facts of a pod object.
    init(pod: JSONValue) {
        let status = pod["status"] ?? .null
        let ready = (status["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }
        var containers: [ContainerRequests] = []
        let spec = pod["spec"] ?? .null
        let restartableInit = (spec["initContainers"]?.arrayValue ?? []).filter { $0["restartPolicy"]?.stringValue == "Always" }
        for c in (spec["containers"]?.arrayValue ?? []) + restartableInit {
            var requests: [String: Int64] = [:]
            for (k, v) in c[path: ["resources", "requests"]]?.objectValue ?? [:] {
                let text = v.stringValue ?? v.intValue.map(String.init) ?? ""
                if let q = Quantity.parse(text) { requests[k] = q.milliValue }
            }
            containers.append(ContainerRequests(name: c["name"]?.stringValue ?? "", requests: requests))
        }
        self.init(
            name: pod.name ?? "", phase: status["phase"]?.stringValue ?? "Pending",
            deleting: pod[path: ["metadata", "deletionTimestamp"]].map { !$0.isNull } ?? false,
            readiness: ready.map {
                Readiness(status: $0["status"]?.stringValue ?? "Unknown",
                          lastTransition: $0["lastTransitionTime"]?.stringValue.flatMap(Timestamp.parse) ?? .distantPast)
            },
            startTime: status["startTime"]?.stringValue.flatMap(Timestamp.parse), containers: containers)
    }

    /// Running with a true Ready condition (how Object and External metrics count pods).
    var isRunningAndReady: Bool { phase == "Running" && readiness?.status == "True" }

    /// The pod's request of `resource` in milli-units: the named container's, or the sum over
    /// all containers; every counted container must request it.
    func request(of resource: String, container: String?) throws(ReplicaCalculationError) -> Int64 {
        var total: Int64 = 0
        for c in containers where container == nil || c.name == container {
            guard let r = c.requests[resource] else {
                throw ReplicaCalculationError("missing request for \(resource) in container \(c.name) of Pod \(name)")
            }
            if c.name == container { return r }
            total += r
        }
        if let container { throw ReplicaCalculationError("container \(container) not found in Pod \(name)") }
        return total
    }
}

/// Why a replica count could not be computed; the message is Kubernetes' wording, shown in
/// events and conditions.
struct ReplicaCalculationError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
