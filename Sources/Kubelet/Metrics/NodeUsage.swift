import Foundation

/// The node's totals from /proc: CPU from the first (`cpu`) line of /proc/stat, everything
/// but idle and iowait; memory working set from /proc/meminfo as in-use memory minus
/// inactive file pages (what the kubelet computes on the root cgroup).
enum NodeUsage {
    /// Core-seconds of CPU time spent by the whole machine, from /proc/stat's text.
    static func cpuSeconds(procStat text: String, ticksPerSecond: Double = ProcessGroupUsage.ticksPerSecond) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let busy = values.prefix(8).enumerated().filter { $0.offset != 3 && $0.offset != 4 }.reduce(UInt64(0)) { $0 + $1.element }
        return Double(busy) / ticksPerSecond
    }

    /// MemTotal - MemFree - Inactive(file), from /proc/meminfo's values (`HostProbe.meminfo`);
    /// never below zero.
    static func workingSetBytes(meminfo values: [String: Int64]) -> Int64? {
        guard let total = values["MemTotal"], let free = values["MemFree"] else { return nil }
        return max(0, total - free - (values["Inactive(file)"] ?? 0))
    }

    /// This machine's totals now; nil when /proc cannot be read.
    static func read() -> ContainerUsage? {
        guard let cpu = Tmpfs.readProcFile("/proc/stat").flatMap({ cpuSeconds(procStat: $0) }),
              let memory = workingSetBytes(meminfo: HostProbe.meminfo()) else { return nil }
        return ContainerUsage(cpuSeconds: cpu, memoryWorkingSetBytes: memory)
    }
}
