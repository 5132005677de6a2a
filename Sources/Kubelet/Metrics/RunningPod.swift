import Foundation
import KubeModel

/// A pod with containers running on this node, as the metrics collector sees it.
public struct RunningPod: Sendable, Equatable {
    public struct Container: Sendable, Equatable {
        public var name: String
        public var id: ContainerID
        public var startedAt: Date

        public init(name: String, id: ContainerID, startedAt: Date) {
            self.name = name
            self.id = id
            self.startedAt = startedAt
        }
    }

    public var namespace: String
    public var name: String
    public var uid: String
    public var annotations: [String: String]
    /// Running app and init containers, in spec order.
    public var containers: [Container]

    public init(namespace: String, name: String, uid: String, annotations: [String: String], containers: [Container]) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.annotations = annotations
        self.containers = containers
    }
}

/// Where the collector finds the pods running on the node (the pod workers; a list in tests).
public protocol RunningPodSource: Sendable {
    func runningPods() async -> [RunningPod]
}
