import Foundation
import KubeModel

/// The runtime spec (`config.json`) of one container, from the pod spec over the image config:
/// the process (command/args over Entrypoint/Cmd, env over the image's, working dir, user,
/// capabilities), the root (read-only when asked), the standard kernel file systems, the
/// pod's volumes as bind mounts, the pod's network namespace and the cgroup limits.
struct OCIBundle: Sendable {
    var config: ContainerConfig
    var image: ImageConfig.Settings
    var user: ContainerUser
    /// nil: the host's network (hostNetwork pods, or no pod network).
    var networkNamespace: String?
    /// Relative to the cgroup roots, as runc's cgroupfs driver takes it.
    var cgroupsPath: String?
    /// `linux.seccomp` (`SeccompProfile`); nil runs unfiltered.
    var seccomp: JSONValue? = nil
    /// The limits are on the parent cgroup, the kubelet's (`OCIRuntime.containerCgroup`):
    /// the spec leaves them out, or the child would hit them first and take the OOM count
    /// with it when runc removes it.
    var limitsInParent = false

    /// The child of the container's cgroup that runc makes and removes.
    static let runtimeCgroupName = "runtime"

    /// What runs, by Kubernetes' rule: `command` replaces Entrypoint and drops Cmd; `args`
    /// replace Cmd.
    static func argv(command: [String], args: [String], image: ImageConfig.Settings) -> [String] {
        if !command.isEmpty { return command + args }
        return (image.Entrypoint ?? []) + (args.isEmpty ? (image.Cmd ?? []) : args)
    }

    /// The image's Env, then the pod's (later wins), with a PATH when neither sets one.
    static func environment(image: [String], pod: [(name: String, value: String)]) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ name: String, _ value: String) {
            if values[name] == nil { order.append(name) }
            values[name] = value
        }
        for entry in image {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            set(String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
        }
        for (name, value) in pod { set(name, value) }
        if values["PATH"] == nil { set("PATH", ImageResolver.defaultPath) }
        return order.map { "\($0)=\(values[$0] ?? "")" }
    }

    /// containerd's default set for unprivileged containers.
    static let defaultCapabilities = ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
                                      "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]
    /// Every capability of the kernels this runs on (privileged containers, `add: [ALL]`).
    static let allCapabilities = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
                                  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
                                  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
                                  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
                                  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
                                  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]

    static func capabilities(_ security: ContainerSecurity) -> [String] {
        if security.privileged { return allCapabilities.map { "CAP_" + $0 } }
        func normal(_ name: String) -> String { name.uppercased().hasPrefix("CAP_") ? String(name.uppercased().dropFirst(4)) : name.uppercased() }
        let add = security.addCapabilities.map(normal), drop = Set(security.dropCapabilities.map(normal))
        var set = drop.contains("ALL") ? [] : defaultCapabilities.filter { !drop.contains($0) }
        for name in (add.contains("ALL") ? allCapabilities : add) where !set.contains(name) { set.append(name) }
        return set.map { "CAP_" + $0 }
    }

    var spec: JSONValue {
        let security = config.security
        let caps = JSONValue.array(Self.capabilities(security).map { .string($0) })
        var user: JSONValue = ["uid": .int(Int64(user.uid)), "gid": .int(Int64(user.gid))]
        if !security.supplementalGroups.isEmpty { user["additionalGids"] = .array(security.supplementalGroups.map { .int($0) }) }
        let cwd = config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? image.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let process: JSONValue = [
            "terminal": false,
            "user": user,
            "args": .array(Self.argv(command: config.command, args: config.args, image: image).map { .string($0) }),
            "env": .array(Self.environment(image: image.Env ?? [], pod: config.env).map { .string($0) }),
            "cwd": .string(cwd),
            "capabilities": ["bounding": caps, "effective": caps, "permitted": caps],
            // No rlimits: the container keeps the kubelet's (a higher RLIMIT_NOFILE than the
            // host allows would fail every start).
            "noNewPrivileges": .bool(!security.privileged && security.allowPrivilegeEscalation == false),
        ]
        var namespaces: [JSONValue] = [["type": "pid"], ["type": "ipc"], ["type": "uts"], ["type": "mount"]]
        if let networkNamespace { namespaces.append(["type": "network", "path": .string(networkNamespace)]) }
        var linux: JSONValue = [
            "namespaces": .array(namespaces),
            "resources": resources,
        ]
        if let cgroupsPath { linux["cgroupsPath"] = .string(cgroupsPath) }
        if let seccomp { linux["seccomp"] = seccomp }
        if !security.privileged {
            linux["maskedPaths"] = .array(["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                           "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"].map { .string($0) })
            linux["readonlyPaths"] = .array(["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
                .map { .string($0) })
        }
        return [
            "ociVersion": "1.0.2",
            "process": process,
            "root": ["path": "rootfs", "readonly": .bool(security.readOnlyRootFilesystem)],
            "hostname": .string(networkNamespace == nil ? (ProcessInfo.processInfo.hostName) : (config.hostname ?? config.podName)),
            "mounts": .array(mounts),
            "linux": linux,
        ]
    }

    var resources: JSONValue {
        var resources: JSONValue = [
            // Device access as runc's default allow list gives it (null, zero, full, random, urandom, tty, ptmx, pts).
            "devices": [["allow": false, "access": "rwm"]],
        ]
        if config.security.privileged { resources["devices"] = [["allow": true, "access": "rwm"]] }
        if limitsInParent { return resources }
        if let memory = config.limits.memoryBytes { resources["memory"] = ["limit": .int(memory)] }
        if let cpu = config.limits.cpuMillis { resources["cpu"] = ["quota": .int(max(1000, cpu * 100)), "period": 100_000] }
        if let pids = config.limits.pids { resources["pids"] = ["limit": .int(pids)] }
        return resources
    }

    var mounts: [JSONValue] {
        let sysOptions: [JSONValue] = ["nosuid", "noexec", "nodev", config.security.privileged ? "rw" : "ro"]
        var list: [JSONValue] = [
            ["destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]],
            ["destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]],
            ["destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]],
            ["destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]],
            ["destination": "/sys", "type": "sysfs", "source": "sysfs", "options": .array(sysOptions)],
        ]
        for mount in config.mounts {
            list.append(["destination": .string(mount.containerPath), "type": "bind", "source": .string(mount.hostPath),
                         "options": ["rbind", "rprivate", mount.readOnly ? "ro" : "rw"]])
        }
        return list
    }
}
