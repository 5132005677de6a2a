import Foundation

/// A runtime that can say what its containers use. Runtimes that cannot are simply not
/// reported (the kubelet serves node totals only).
public protocol ContainerUsageSource: Sendable {
    /// Usage of the pod's running containers at `time`, by container name; a container the
    /// runtime cannot measure is left out.
    func usage(of pod: RunningPod, at time: Date) async -> [String: ContainerUsage]

    /// The node's totals, given the sum over its pods; nil when they cannot be read.
    func nodeUsage(podTotal: ContainerUsage) async -> ContainerUsage?
}

extension ContainerUsageSource {
    /// The machine's own totals from /proc.
    public func nodeUsage(podTotal: ContainerUsage) async -> ContainerUsage? { NodeUsage.read() }
}
