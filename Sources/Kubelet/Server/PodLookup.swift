/// How the kubelet's HTTPS server (logs, exec) finds a pod's containers. The pod workers
/// implement it; the server only reads.
public protocol PodLookup: Sendable {
    /// The log of `container` (nil: the pod's only container) of the pod: the current attempt,
    /// or the one before it with `previous`. Throws `PodLookupError` when there is none.
    func logLocation(namespace: String, pod: String, container: String?, previous: Bool) async throws -> LogLocation

    /// The running container `kubectl exec` enters; throws `PodLookupError` otherwise.
    func execTarget(namespace: String, pod: String, container: String?) async throws -> ContainerID

    /// The UID of the pod `kubectl port-forward` reaches (its sandbox must exist); throws
    /// `PodLookupError` otherwise.
    func portForwardTarget(namespace: String, pod: String) async throws -> String
}

extension PodLookup {
    /// Through the pod's first container: enough where every pod has one running container.
    public func portForwardTarget(namespace: String, pod: String) async throws -> String {
        try await execTarget(namespace: namespace, pod: pod, container: nil).podUID
    }
}

public struct LogLocation: Sendable, Equatable {
    public var path: String
    public var containerID: ContainerID
    /// Whether that attempt still runs: `-f` keeps following only while it does.
    public var running: Bool

    public init(path: String, containerID: ContainerID, running: Bool) {
        self.path = path
        self.containerID = containerID
        self.running = running
    }
}

/// Answered with the given HTTP code and message (a Kubernetes Status).
public struct PodLookupError: Error, Sendable, CustomStringConvertible {
    /// 400 (e.g. a container name is needed, or the container has not started), 404.
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
