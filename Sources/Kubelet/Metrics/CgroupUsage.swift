import Foundation

/// Reads a container's usage from its cgroup files, as cAdvisor does for the kubelet.
///
/// - cgroup v1: `cpuacct.usage` (nanoseconds) in the cpuacct hierarchy; `memory.usage_in_bytes`
///   minus `total_inactive_file` of `memory.stat` in the memory hierarchy.
/// - cgroup v2: `usage_usec` of `cpu.stat`; `memory.current` minus `inactive_file` of
///   `memory.stat`.
///
/// The working set never goes below zero.
enum CgroupUsage {
    /// CPU seconds from a v1 `cpuacct.usage` file's text.
    static func cpuSecondsV1(usage text: String) -> Double? {
        UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)).map { Double($0) / 1e9 }
    }

    /// CPU seconds from a v2 `cpu.stat` file's text.
    static func cpuSecondsV2(stat text: String) -> Double? {
        keyedValues(text)["usage_usec"].map { Double($0) / 1e6 }
    }

    /// Working set from the usage file's text (`memory.usage_in_bytes` or `memory.current`) and
    /// `memory.stat`'s text.
    static func workingSet(usage: String, stat: String, v2: Bool) -> Int64? {
        guard let bytes = Int64(usage.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        let inactive = keyedValues(stat)[v2 ? "inactive_file" : "total_inactive_file"] ?? 0
        return max(0, bytes - inactive)
    }

    /// `key value` lines (memory.stat, cpu.stat) as a dictionary.
    static func keyedValues(_ text: String) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = Int64(fields[1]) { out[String(fields[0])] = value }
        }
        return out
    }

    /// Usage read from the directories holding the container's CPU accounting and memory
    /// files (the same directory on v2). Nil when either cannot be read.
    static func read(cpuDirectory: String, cpuV2: Bool, memoryDirectory: String, memoryV2: Bool) -> ContainerUsage? {
        let cpu: Double?
        if cpuV2 {
            cpu = Tmpfs.readProcFile(cpuDirectory + "/cpu.stat").flatMap(cpuSecondsV2)
        } else {
            cpu = Tmpfs.readProcFile(cpuDirectory + "/cpuacct.usage").flatMap(cpuSecondsV1)
        }
        let usageFile = memoryDirectory + (memoryV2 ? "/memory.current" : "/memory.usage_in_bytes")
        guard let cpu, let usage = Tmpfs.readProcFile(usageFile), let stat = Tmpfs.readProcFile(memoryDirectory + "/memory.stat"),
              let memory = workingSet(usage: usage, stat: stat, v2: memoryV2) else { return nil }
        return ContainerUsage(cpuSeconds: cpu, memoryWorkingSetBytes: memory)
    }
}
