import Foundation

extension ProcessRuntime: ContainerUsageSource {
    /// From the container's cgroups (cpuacct or v2 cpu.stat, and memory); from /proc over the
    /// container's process group when it has none.
    public func usage(of pod: RunningPod, at time: Date) async -> [String: ContainerUsage] {
        var out: [String: ContainerUsage] = [:]
        for container in pod.containers {
            if let usage = cgroupUsage(container.id) ?? record(container.id).pid().flatMap({ ProcessGroupUsage.read(pgid: $0) }) {
                out[container.name] = usage
            }
        }
        return out
    }

    private func cgroupUsage(_ id: ContainerID) -> ContainerUsage? {
        guard cgroups.enabled, let (memoryDir, memoryV2) = cgroups.directory(.memory, podUID: id.podUID, container: id) else { return nil }
        // v1 accounts CPU in cpuacct; v2 in every cgroup's cpu.stat.
        var cpu: (String, Bool)? = cgroups.directory(.cpuacct, podUID: id.podUID, container: id)
        if cpu == nil, let (dir, v2) = cgroups.directory(.cpu, podUID: id.podUID, container: id), v2 { cpu = (dir, true) }
        if cpu == nil, memoryV2 { cpu = (memoryDir, true) }
        guard let (cpuDir, cpuV2) = cpu else { return nil }
        return CgroupUsage.read(cpuDirectory: cpuDir, cpuV2: cpuV2, memoryDirectory: memoryDir, memoryV2: memoryV2)
    }
}
