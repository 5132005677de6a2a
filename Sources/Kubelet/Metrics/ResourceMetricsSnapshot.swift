import Foundation

/// What the kubelet measured at one instant: the node, each running container and each
/// pod (the sum of its containers).
public struct ResourceMetricsSnapshot: Sendable, Equatable {
    public struct ContainerSample: Sendable, Equatable {
        public var namespace: String
        public var pod: String
        public var container: String
        public var startedAt: Date
        public var usage: ContainerUsage
    }

    public struct PodSample: Sendable, Equatable {
        public var namespace: String
        public var pod: String
        public var usage: ContainerUsage
    }

    /// Millisecond precision: the timestamps of the Prometheus samples.
    public var timestamp: Date
    public var node: ContainerUsage?
    public var containers: [ContainerSample]
    public var pods: [PodSample]
    /// A running container could not be measured.
    public var scrapeError: Bool
}
