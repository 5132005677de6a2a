import Foundation
import KubeModel

/// What a node offers pods: CPU, memory, local storage and a pod count. Capacity is what
/// the machine has; allocatable keeps back a small reservation for the system and the
/// kubelet itself, as `--system-reserved` and the hard eviction thresholds do in Kubernetes.
public struct NodeCapacity: Sendable, Equatable {
    public var cpuCores: Int
    public var memoryBytes: Int64
    public var ephemeralStorageBytes: Int64
    public var pods: Int

    public init(cpuCores: Int, memoryBytes: Int64, ephemeralStorageBytes: Int64, pods: Int = 110) {
        self.cpuCores = cpuCores
        self.memoryBytes = memoryBytes
        self.ephemeralStorageBytes = ephemeralStorageBytes
        self.pods = pods
    }

    /// Reserved from allocatable: 100m CPU, 256Mi memory (system plus the 100Mi eviction
    /// threshold), 10% of storage (the nodefs eviction threshold).
    static let reservedCPUMillis: Int64 = 100
    static let reservedMemoryBytes: Int64 = 256 << 20

    /// This machine: /proc/meminfo's MemTotal, the active processor count, and the size of
    /// the filesystem holding `rootDirectory` (its parent when it does not exist yet).
    public static func detect(rootDirectory: String) -> NodeCapacity {
        let memory = HostProbe.meminfo()["MemTotal"] ?? Int64(ProcessInfo.processInfo.physicalMemory)
        let fs = HostProbe.filesystem(rootDirectory)
        return NodeCapacity(cpuCores: max(1, ProcessInfo.processInfo.activeProcessorCount),
                            memoryBytes: memory, ephemeralStorageBytes: fs?.totalBytes ?? 0)
    }

    /// `status.capacity` as Kubernetes quantities.
    public var capacityJSON: JSONValue {
        [
            "cpu": .string(String(cpuCores)),
            "memory": .string(Self.kibibytes(memoryBytes)),
            "ephemeral-storage": .string(Self.kibibytes(ephemeralStorageBytes)),
            "pods": .string(String(pods)),
        ]
    }

    /// `status.allocatable`: capacity minus the reservation, never below zero.
    public var allocatableJSON: JSONValue {
        let cpu = max(0, Int64(cpuCores) * 1000 - Self.reservedCPUMillis)
        return [
            "cpu": .string("\(cpu)m"),
            "memory": .string(Self.kibibytes(max(0, memoryBytes - Self.reservedMemoryBytes))),
            "ephemeral-storage": .string(String(max(0, ephemeralStorageBytes - ephemeralStorageBytes / 10))),
            "pods": .string(String(pods)),
        ]
    }

    static func kibibytes(_ bytes: Int64) -> String { "\(bytes / 1024)Ki" }
}

/// Reads the host facts a node reports: /proc, statfs, uname, /etc files. Every reader
/// answers nil (or empty) when its source is missing, so a node still registers.
enum HostProbe {
    /// /proc/meminfo as bytes per key (`MemTotal`, `MemAvailable`, ...).
    static func meminfo(path: String = "/proc/meminfo") -> [String: Int64] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            guard parts.count >= 2, let value = Int64(parts[1]) else { continue }
            out[String(parts[0])] = parts.count >= 3 && parts[2] == "kB" ? value * 1024 : value
        }
        return out
    }

    struct Filesystem: Sendable, Equatable {
        var totalBytes: Int64
        var availableBytes: Int64
    }

    /// Size and free space of the filesystem holding `path` (or its nearest existing parent).
    static func filesystem(_ path: String) -> Filesystem? {
        var candidate = path.isEmpty ? "/" : path
        while !FileManager.default.fileExists(atPath: candidate), candidate != "/" {
            candidate = (candidate as NSString).deletingLastPathComponent
            if candidate.isEmpty { candidate = "/" }
        }
        var s = statvfs()
        guard statvfs(candidate, &s) == 0 else { return nil }
        let block = Int64(s.f_frsize)
        return Filesystem(totalBytes: Int64(s.f_blocks) * block, availableBytes: Int64(s.f_bavail) * block)
    }

    /// The first line of a small file, trimmed; nil when absent or empty.
    static func firstLine(_ path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let line = text.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return line.isEmpty ? nil : line
    }

    /// `uname -r`.
    static func kernelRelease() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    /// PRETTY_NAME from /etc/os-release, as `kubectl get nodes -o wide` shows it.
    static func osImage() -> String {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return "Linux" }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }

    /// Kubernetes' GOARCH names.
    static var architecture: String {
        #if arch(arm64)
        return "arm64"
        #else
        return "amd64"
        #endif
    }

    /// Processes and threads in use, and the kernel's pid_max.
    static func pids() -> (inUse: Int, max: Int)? {
        guard let maxText = firstLine("/proc/sys/kernel/pid_max"), let max = Int(maxText),
              let load = firstLine("/proc/loadavg") else { return nil }
        // loadavg's fourth field is running/total scheduling entities.
        let fields = load.split(separator: " ")
        guard fields.count >= 4, let total = fields[3].split(separator: "/").last.flatMap({ Int($0) }) else { return nil }
        return (total, max)
    }
}
