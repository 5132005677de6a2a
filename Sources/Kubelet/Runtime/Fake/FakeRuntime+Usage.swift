import Foundation

extension FakeRuntime: ContainerUsageSource {
    /// What the pod's annotations declare (`FakeUsageMeter`).
    public func usage(of pod: RunningPod, at time: Date) async -> [String: ContainerUsage] {
        usageMeter.usage(podUID: pod.uid, annotations: pod.annotations, containers: pod.containers.map(\.name), at: time)
    }

    /// A fake node uses exactly what its pods use.
    public nonisolated func nodeUsage(podTotal: ContainerUsage) async -> ContainerUsage? { podTotal }
}
