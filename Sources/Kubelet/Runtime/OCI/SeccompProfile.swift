import Foundation
import KubeModel

/// The `linux.seccomp` of a container's runtime spec, from its `seccompProfile`.
///
/// `RuntimeDefault` is allow-by-default with a deny list (the syscalls containerd's and
/// Docker's default profiles refuse an unprivileged container: kernel modules, mounts, new
/// namespaces, keyrings, clock setting, reboot, tracing other processes…), each answered with
/// EPERM. A capability the container was given lifts the block on the syscalls it guards, as in
/// those profiles. A deny list keeps working when the kernel gains syscalls the list does not
/// name, at the price of allowing them. Privileged containers run unconfined.
enum SeccompProfile {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// nil: no filter.
    static func spec(for security: ContainerSecurity, capabilities: [String], directory: String) throws(LoadError) -> JSONValue? {
        if security.privileged { return nil }
        switch security.seccomp {
        case .unconfined: return nil
        case .runtimeDefault: return runtimeDefault(capabilities: Set(capabilities))
        case .localhost(let name): return try localhost(name, directory: directory)
        case .unknown(let type): throw LoadError(description: "unknown seccomp profile type \"\(type)\"")
        }
    }

    /// A profile the node's admin put under the kubelet's seccomp directory (OCI `linux.seccomp` JSON).
    static func localhost(_ name: String, directory: String) throws(LoadError) -> JSONValue {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !name.isEmpty, !name.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
            throw LoadError(description: "localhostProfile \"\(name)\" must be a relative path without \"..\"")
        }
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(description: "cannot load seccomp profile \"\(path)\": no such file")
        }
        let profile: JSONValue
        do { profile = try JSONParser.parse(data) } catch {
            throw LoadError(description: "seccomp profile \"\(path)\" is not JSON: \(error)")
        }
        guard profile.objectValue != nil, profile["defaultAction"]?.stringValue != nil else {
            throw LoadError(description: "seccomp profile \"\(path)\" has no defaultAction")
        }
        return profile
    }

    static let eperm: Int64 = 1
    static let enosys: Int64 = 38

    /// Syscalls refused whatever the capabilities.
    static let alwaysDenied = ["add_key", "keyctl", "request_key", "lookup_dcookie", "nfsservctl", "sysfs", "_sysctl", "uselib",
                               "userfaultfd", "ustat", "vm86", "vm86old", "get_kernel_syms", "query_module", "create_module"]

    /// Syscalls refused unless the container holds the capability (`CAP_` names).
    static let deniedWithout: [(capability: String, syscalls: [String])] = [
        ("CAP_SYS_ADMIN", ["mount", "umount", "umount2", "unshare", "setns", "pivot_root", "quotactl", "swapon", "swapoff",
                           "name_to_handle_at", "fanotify_init", "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount",
                           "fspick", "mount_setattr", "bpf", "perf_event_open"]),
        ("CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]),
        ("CAP_SYS_BOOT", ["reboot", "kexec_load", "kexec_file_load"]),
        ("CAP_SYS_TIME", ["settimeofday", "stime", "clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64"]),
        ("CAP_SYS_PTRACE", ["ptrace", "process_vm_readv", "process_vm_writev", "kcmp"]),
        ("CAP_SYS_PACCT", ["acct"]),
        ("CAP_SYS_RAWIO", ["iopl", "ioperm"]),
        ("CAP_SYS_NICE", ["mbind", "set_mempolicy", "get_mempolicy", "move_pages"]),
        ("CAP_DAC_READ_SEARCH", ["open_by_handle_at"]),
        ("CAP_SYSLOG", ["syslog"]),
    ]

    /// clone's namespace flags (NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET):
    /// without CAP_SYS_ADMIN a clone asking for any of them is refused, as `unshare` is.
    static let cloneNamespaceFlags: [Int64] = [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000]

    static var architectures: [String] {
        #if arch(x86_64)
        ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        #elseif arch(arm64)
        ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
        #else
        []
        #endif
    }

    static func runtimeDefault(capabilities: Set<String>) -> JSONValue {
        var denied = alwaysDenied
        for (capability, syscalls) in deniedWithout where !capabilities.contains(capability) {
            denied += syscalls.filter { !denied.contains($0) }
        }
        var rules: [JSONValue] = [["names": .array(denied.map { .string($0) }), "action": "SCMP_ACT_ERRNO", "errnoRet": .int(eperm)]]
        if !capabilities.contains("CAP_SYS_ADMIN") {
            for flag in cloneNamespaceFlags {
                rules.append(["names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": .int(eperm),
                              "args": [["index": 0, "value": .int(flag), "valueTwo": .int(flag), "op": "SCMP_CMP_MASKED_EQ"]]])
            }
            // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
            rules.append(["names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": .int(enosys)])
        }
        return ["defaultAction": "SCMP_ACT_ALLOW", "architectures": .array(architectures.map { .string($0) }),
                "syscalls": .array(rules)]
    }
}
