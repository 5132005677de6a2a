#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who a container's process is, read from `/proc/PID/status`: its user, groups and
/// capability sets, and whether it may gain privileges. An exec into the container takes the
/// same identity, as `runc exec` gives a command the container's user and capabilities.
struct ContainerIdentity: Equatable {
    var uid: uid_t
    var gid: gid_t
    var groups: [gid_t]
    var effective: UInt64
    var permitted: UInt64
    var inheritable: UInt64
    var bounding: UInt64
    var noNewPrivileges: Bool

    /// The identity of process `pid`, read before entering its namespaces (inside them, /proc
    /// is the container's and the PID means another process).
    static func read(pid: pid_t) -> ContainerIdentity? {
        guard let text = readSmallFile("/proc/\(pid)/status") else { return nil }
        return parse(status: text)
    }

    static func parse(status text: String) -> ContainerIdentity? {
        var fields: [String: [Substring]] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
        }
        func hex(_ key: String) -> UInt64? { fields[key]?.first.flatMap { UInt64($0, radix: 16) } }
        guard let uid = fields["Uid"]?.first.flatMap({ uid_t($0) }), let gid = fields["Gid"]?.first.flatMap({ gid_t($0) }),
              let effective = hex("CapEff"), let permitted = hex("CapPrm"), let inheritable = hex("CapInh"),
              let bounding = hex("CapBnd") else { return nil }
        return ContainerIdentity(uid: uid, gid: gid, groups: (fields["Groups"] ?? []).compactMap { gid_t($0) },
                                 effective: effective, permitted: permitted, inheritable: inheritable, bounding: bounding,
                                 noNewPrivileges: fields["NoNewPrivs"]?.first == "1")
    }

    /// Takes this identity: bounding set, groups, gid, uid (which clears the capabilities of a
    /// non-root user), the capability sets of a root one, no_new_privs. Returns what failed.
    func apply() -> String? {
        for cap in 0..<64 where bounding & (1 << UInt64(cap)) == 0 {
            // Capabilities past the kernel's last one are refused with EINVAL: nothing to drop.
            if prctl(PR_CAPBSET_DROP, UInt(cap)) != 0 && errno != EINVAL { return "dropping capability \(cap): \(errnoString(errno))" }
        }
        let list = groups
        guard list.withUnsafeBufferPointer({ setgroups(list.count, $0.baseAddress) }) == 0 else { return "setgroups: \(errnoString(errno))" }
        guard setgid(gid) == 0 else { return "setgid \(gid): \(errnoString(errno))" }
        if uid != 0 {
            guard setuid(uid) == 0 else { return "setuid \(uid): \(errnoString(errno))" }
        } else {
            guard setCapabilities(effective: effective, permitted: permitted, inheritable: inheritable) == 0 else {
                return "capset: \(errnoString(errno))"
            }
        }
        if noNewPrivileges, prctl(PR_SET_NO_NEW_PRIVS, 1) != 0 { return "no_new_privs: \(errnoString(errno))" }
        return nil
    }
}

private let PR_CAPBSET_DROP: Int32 = 24
private let PR_SET_NO_NEW_PRIVS: Int32 = 38

// prctl is variadic and capset has no glibc header the Glibc module imports: both are looked
// up in libc, as setns is.
private typealias PrctlCall = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
private typealias CapsetCall = @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer) -> Int32

private func prctl(_ option: Int32, _ argument: UInt) -> Int32 {
    guard let symbol = dlsym(nil, "prctl") else { errno = ENOSYS; return -1 }
    return unsafeBitCast(symbol, to: PrctlCall.self)(option, argument, 0, 0, 0)
}

/// capset(2) with the 64-bit layout (`_LINUX_CAPABILITY_VERSION_3`): a header of version and
/// pid, then two {effective, permitted, inheritable} words, low 32 bits first.
private func setCapabilities(effective: UInt64, permitted: UInt64, inheritable: UInt64) -> Int32 {
    guard let symbol = dlsym(nil, "capset") else { errno = ENOSYS; return -1 }
    var header: [UInt32] = [0x2008_0522, 0]
    var data: [UInt32] = [UInt32(truncatingIfNeeded: effective), UInt32(truncatingIfNeeded: permitted), UInt32(truncatingIfNeeded: inheritable),
                          UInt32(truncatingIfNeeded: effective >> 32), UInt32(truncatingIfNeeded: permitted >> 32),
                          UInt32(truncatingIfNeeded: inheritable >> 32)]
    return header.withUnsafeMutableBytes { h in
        data.withUnsafeMutableBytes { d in
            guard let hp = h.baseAddress, let dp = d.baseAddress else { return -1 }
            return unsafeBitCast(symbol, to: CapsetCall.self)(hp, dp)
        }
    }
}
