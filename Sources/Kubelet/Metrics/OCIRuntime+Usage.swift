import Foundation

/// runc puts each container in the cgroup the process runtime would use, so usage is read alike.
extension OCIRuntime: ContainerUsageSource {
    public func usage(of pod: RunningPod, at time: Date) async -> [String: ContainerUsage] {
        await processes.usage(of: pod, at: time)
    }
}
