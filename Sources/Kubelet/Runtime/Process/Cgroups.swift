import Foundation

/// Pod and container cgroups: `<hierarchy>/<parent>/pod<uid>/<container>_<attempt>` for the
/// memory, cpu and pids controllers, and cpuacct (CPU usage) where v1 mounts it apart. Each
/// controller is used where the node has it: its own cgroup v1 hierarchy (`/sys/fs/cgroup/memory`, …) or, when it is enabled there, the cgroup v2
/// hierarchy (`/sys/fs/cgroup/unified` on hybrid hosts, `/sys/fs/cgroup` on pure v2 hosts).
/// A controller lives in only one of them, so limits are never set twice.
public struct Cgroups: Sendable {
    public enum Controller: String, Sendable, CaseIterable { case memory, cpu, pids, cpuacct }

    struct Hierarchy: Sendable, Hashable {
        var root: String
        var v2: Bool
    }

    public let parent: String
    /// Controller -> hierarchy; empty when cgroups are unusable (not root, not writable).
    let hierarchies: [Controller: Hierarchy]
    /// Why limits are not enforced, for one warning; nil when they are.
    public let unavailableReason: String?

    public init(parent: String, mountPoint: String = "/sys/fs/cgroup") {
        self.parent = parent
        let fm = FileManager.default
        var v2Root: String?
        for candidate in [mountPoint + "/unified", mountPoint] where fm.fileExists(atPath: candidate + "/cgroup.controllers") {
            v2Root = candidate
            break
        }
        let v2Controllers = v2Root.flatMap { try? String(contentsOfFile: $0 + "/cgroup.controllers", encoding: .utf8) }?
            .split(whereSeparator: \.isWhitespace).map(String.init) ?? []
        var found: [Controller: Hierarchy] = [:]
        for controller in Controller.allCases {
            let v1 = mountPoint + "/" + controller.rawValue
            if fm.fileExists(atPath: v1 + "/cgroup.procs"), !fm.fileExists(atPath: v1 + "/cgroup.controllers") {
                found[controller] = Hierarchy(root: v1, v2: false)
            } else if let v2Root, v2Controllers.contains(controller.rawValue) {
                found[controller] = Hierarchy(root: v2Root, v2: true)
            }
        }
        if geteuid() != 0 {
            unavailableReason = "not running as root"
        } else if found.isEmpty {
            unavailableReason = "no memory, cpu or pids cgroup controller at \(mountPoint)"
        } else if let any = found.values.first, access(any.root, W_OK) != 0 {
            unavailableReason = "\(any.root) is not writable"
        } else {
            unavailableReason = nil
        }
        hierarchies = unavailableReason == nil ? found : [:]
    }

    public var enabled: Bool { !hierarchies.isEmpty }

    static func containerName(_ id: ContainerID) -> String { "\(id.name)_\(id.attempt)" }

    private var roots: [Hierarchy] { Array(Set(hierarchies.values)).sorted { $0.root < $1.root } }

    func podDirectories(_ podUID: String) -> [String] {
        roots.map { "\($0.root)/\(parent)/pod\(podUID)" }
    }

    /// The container's cgroup directories, one per hierarchy; the shim's child joins them all.
    func containerDirectories(_ id: ContainerID) -> [String] {
        podDirectories(id.podUID).map { $0 + "/" + Self.containerName(id) }
    }

    /// Creates the pod cgroup (container nil) or a container's, writes the limits and returns
    /// the directories. Throws when a directory or a limit cannot be written.
    @discardableResult
    func create(podUID: String, container: ContainerID?, limits: ResourceLimits) throws -> [String] {
        var created: [String] = []
        for hierarchy in roots {
            var path = "\(hierarchy.root)/\(parent)/pod\(podUID)"
            if let container { path += "/" + Self.containerName(container) }
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if hierarchy.v2 { try enableV2Controllers(root: hierarchy.root, upTo: path) }
            created.append(path)
        }
        try apply(limits, podUID: podUID, container: container)
        return created
    }

    func directory(_ controller: Controller, podUID: String, container: ContainerID?) -> (String, Bool)? {
        guard let hierarchy = hierarchies[controller] else { return nil }
        var path = "\(hierarchy.root)/\(parent)/pod\(podUID)"
        if let container { path += "/" + Self.containerName(container) }
        return (path, hierarchy.v2)
    }

    private func apply(_ limits: ResourceLimits, podUID: String, container: ContainerID?) throws {
        if let bytes = limits.memoryBytes, let (dir, v2) = directory(.memory, podUID: podUID, container: container) {
            if v2 {
                try write(dir + "/memory.max", "\(bytes)")
                try? write(dir + "/memory.swap.max", "0")
            } else {
                try write(dir + "/memory.limit_in_bytes", "\(bytes)")
                // Without this, a host with swap pages the container out instead of OOM-killing it.
                try? write(dir + "/memory.memsw.limit_in_bytes", "\(bytes)")
            }
        }
        if let millis = limits.cpuMillis, millis > 0, let (dir, v2) = directory(.cpu, podUID: podUID, container: container) {
            // Kubernetes' minimum quota is 1 ms per 100 ms period.
            let quota = max(millis * 100, 1000)
            if v2 {
                try write(dir + "/cpu.max", "\(quota) 100000")
            } else {
                try write(dir + "/cpu.cfs_period_us", "100000")
                try write(dir + "/cpu.cfs_quota_us", "\(quota)")
            }
        }
        if let pids = limits.pids, let (dir, _) = directory(.pids, podUID: podUID, container: container) {
            try write(dir + "/pids.max", "\(pids)")
        }
    }

    /// v2 needs each ancestor to delegate the controllers to its children.
    private func enableV2Controllers(root: String, upTo path: String) throws {
        let wanted = hierarchies.filter { $0.value.v2 && $0.value.root == root }.map { "+" + $0.key.rawValue }
        guard !wanted.isEmpty else { return }
        var current = root
        let components = path.dropFirst(root.count).split(separator: "/")
        for component in components.dropLast() {
            try? write(current + "/cgroup.subtree_control", wanted.joined(separator: " "))
            current += "/" + component
        }
        try? write(current + "/cgroup.subtree_control", wanted.joined(separator: " "))
    }

    private func write(_ path: String, _ value: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(value.utf8))
    }

    private func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    private static func counter(_ text: String?, key: String) -> Int64? {
        for line in (text ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == key { return Int64(fields[1]) }
        }
        return nil
    }

    /// Whether the kernel OOM-killed a process of the container (or of its pod).
    /// `killedBySignal9` enables the v1 fallback for kernels without the `oom_kill` counter.
    /// `childCgroups`: the processes ran in a child cgroup, now gone; v1 counts a kill in the
    /// victim's own cgroup only, so a SIGKILL once the usage reached the limit here counts.
    func oomKilled(_ id: ContainerID, killedBySignal9: Bool, childCgroups: Bool = false) -> Bool {
        // The pod's own limit counts only for a process that died by SIGKILL.
        for container in (killedBySignal9 ? [id, nil] : [id]) as [ContainerID?] {
            guard let (dir, v2) = directory(.memory, podUID: id.podUID, container: container) else { return false }
            if v2 {
                if let kills = Self.counter(read(dir + "/memory.events"), key: "oom_kill"), kills > 0 { return true }
                continue
            }
            let control = read(dir + "/memory.oom_control")
            if let kills = Self.counter(control, key: "oom_kill") {
                if kills > 0 { return true }
                if childCgroups, killedBySignal9, reachedLimit(dir) { return true }
            } else if killedBySignal9, let text = read(dir + "/memory.failcnt"),
                      let failures = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)), failures > 0 {
                return true
            }
        }
        return false
    }

    /// v1: the peak usage reached the memory limit (or a charge failed against it).
    private func reachedLimit(_ dir: String) -> Bool {
        func value(_ file: String) -> Int64? { read(dir + "/" + file).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        if let failures = value("memory.failcnt"), failures > 0 { return true }
        guard let limit = value("memory.limit_in_bytes"), limit < Int64.max / 2, let peak = value("memory.max_usage_in_bytes") else { return false }
        return peak >= limit
    }

    /// Every process still in the container's cgroups (with nil, the whole pod's): what a main
    /// process left behind when it exited.
    func processes(podUID: String, container: ContainerID?) -> [pid_t] {
        let fm = FileManager.default
        var pids: Set<pid_t> = []
        for dir in container.map({ containerDirectories($0) }) ?? podDirectories(podUID) {
            var files = [dir + "/cgroup.procs"]
            if let enumerator = fm.enumerator(atPath: dir) {
                while let path = enumerator.nextObject() as? String {
                    if path.hasSuffix("/cgroup.procs") { files.append(dir + "/" + path) }
                }
            }
            for file in files {
                for line in (read(file) ?? "").split(separator: "\n") { if let pid = pid_t(line) { pids.insert(pid) } }
            }
        }
        return pids.sorted()
    }

    /// Removes the container's cgroups, or with nil the whole pod's. Processes must be gone; a
    /// busy cgroup (its last tasks still exiting) is retried briefly.
    func remove(podUID: String, container: ContainerID?) async {
        for podDir in podDirectories(podUID) {
            var dirs: [String]
            if let container {
                dirs = [podDir + "/" + Self.containerName(container)]
            } else {
                let children = (try? FileManager.default.contentsOfDirectory(atPath: podDir)) ?? []
                dirs = children.map { podDir + "/" + $0 }.filter { isDirectory($0) } + [podDir]
            }
            for dir in dirs where FileManager.default.fileExists(atPath: dir) {
                for _ in 0..<50 {
                    if rmdir(dir) == 0 || errno == ENOENT { break }
                    try? await Task.sleep(for: .milliseconds(40))
                }
            }
        }
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
