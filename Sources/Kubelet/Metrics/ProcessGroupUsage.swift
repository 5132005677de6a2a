import Foundation

/// Usage of a container without a cgroup (cgroups unavailable, e.g. not root): the sum over
/// the processes of its process group (the container's main process leads one) of
/// `utime + stime` from /proc/PID/stat and the resident set from /proc/PID/statm.
enum ProcessGroupUsage {
    /// Clock ticks per second of /proc/PID/stat's times.
    static let ticksPerSecond = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
    static let pageSize = Int64(max(1, sysconf(Int32(_SC_PAGESIZE))))

    struct ProcessStat: Equatable {
        var pgid: Int32
        var cpuTicks: UInt64
    }

    /// Process group and CPU ticks (user + system) from a /proc/PID/stat line.
    static func parseStat(_ text: String) -> ProcessStat? {
        // Fields after the command name, which may itself hold spaces and parentheses.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        guard fields.count > 12, let pgid = Int32(fields[2]), let utime = UInt64(fields[11]),
              let stime = UInt64(fields[12]) else { return nil }
        return ProcessStat(pgid: pgid, cpuTicks: utime + stime)
    }

    /// Resident pages (the second field) of /proc/PID/statm.
    static func parseStatmResident(_ text: String) -> Int64? {
        let fields = text.split(separator: " ")
        return fields.count > 1 ? Int64(fields[1]) : nil
    }

    /// The usage of process group `pgid`; nil when no process of it is left.
    static func read(pgid: Int32, proc: String = "/proc") -> ContainerUsage? {
        guard pgid > 0, let entries = try? FileManager.default.contentsOfDirectory(atPath: proc) else { return nil }
        var ticks: UInt64 = 0
        var pages: Int64 = 0
        var found = false
        for entry in entries {
            guard Int32(entry) != nil, let text = Tmpfs.readProcFile("\(proc)/\(entry)/stat"),
                  let stat = parseStat(text), stat.pgid == pgid else { continue }
            found = true
            ticks += stat.cpuTicks
            pages += Tmpfs.readProcFile("\(proc)/\(entry)/statm").flatMap(parseStatmResident) ?? 0
        }
        guard found else { return nil }
        return ContainerUsage(cpuSeconds: Double(ticks) / ticksPerSecond, memoryWorkingSetBytes: pages * pageSize)
    }
}
