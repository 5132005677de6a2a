#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct ExecOptions {
    var targetPid: pid_t = 0
    var workdir: String?
    /// Stdin is a terminal (the kubelet's pseudo-terminal slave): make it the command's
    /// controlling terminal, in a session of its own.
    var tty = false
    var argv: [String] = []
}

/// Enters a running container (its namespaces, its cgroups, its working directory, its user
/// and capabilities) and execs the command there, with the shim's environment. Never returns.
func execInContainer(_ options: ExecOptions) -> Never {
    let target = "/proc/\(options.targetPid)"
    // Cgroups first: /proc/PID/cgroup is read in the node's view; so is the identity.
    joinCgroups(of: target)
    guard let identity = ContainerIdentity.read(pid: options.targetPid) else { fail("container process \(options.targetPid) not found") }
    let mine = ContainerIdentity.read(pid: getpid())
    // Every descriptor is opened before the first setns: once in the container's mount
    // namespace, /proc is the container's and PID means another process or none.
    var entries: [(name: String, flag: Int32, fd: Int32)] = []
    for (name, flag) in [("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS), ("net", CLONE_NEWNET), ("pid", CLONE_NEWPID), ("mnt", CLONE_NEWNS)] {
        var mine = stat(), theirs = stat()
        guard stat("/proc/self/ns/\(name)", &mine) == 0, stat("\(target)/ns/\(name)", &theirs) == 0 else {
            fail("container process \(options.targetPid) not found")
        }
        if mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev { continue }
        let fd = open("\(target)/ns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("open \(target)/ns/\(name): \(errnoString(errno))") }
        entries.append((name, flag, fd))
    }
    let cwd = options.workdir == nil ? open("\(target)/cwd", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
    // The PID namespace applies to the child forked below: the command is one of the
    // container's processes, and sees only them.
    for entry in entries {
        guard setns(entry.fd, entry.flag) == 0 else { fail("setns \(entry.name): \(errnoString(errno))") }
        close(entry.fd)
    }
    // Entering a mount namespace moves to its root; the container's working directory is
    // reached through the descriptor taken before.
    if cwd >= 0 {
        _ = fchdir(cwd)
        close(cwd)
    }
    // Its own process group, so a timeout or a client that went away can kill all of it.
    _ = setpgid(0, 0)
    let workdir = options.workdir
    let argv = makeCArgv(options.argv)
    guard let first = argv.first, let program = first else { fail("no command") }
    // The command runs in a child without the descriptors the spawner left open (Foundation
    // watches one for this process's exit: a command's background children must not hold it),
    // while this process waits and exits with the command's status.
    let child = fork()
    guard child >= 0 else { fail("fork: \(errnoString(errno))") }
    if child == 0 {
        closeInheritedDescriptors()
        resetSignals()
        if options.tty {
            _ = setsid()
            _ = ioctl(0, UInt(TIOCSCTTY), 0)
        }
        if let workdir, chdir(workdir) != 0 {
            writeAll(2, Array("caravel-shim exec: chdir \(workdir): \(errnoString(errno))\n".utf8))
            _exit(126)
        }
        // The container's user, groups and capabilities, not the kubelet's (nothing to change
        // when they are the same, as for a kubelet that is not root).
        if identity != mine, let problem = identity.apply() {
            writeAll(2, Array("caravel-shim exec: \(problem)\n".utf8))
            _exit(126)
        }
        execvp(program, argv)
        let code = errno
        writeAll(2, Array("caravel-shim exec: \(options.argv[0]): \(errnoString(code))\n".utf8))
        _exit(code == ENOENT ? 127 : 126)
    }
    // Only the command may hold the streams, so readers see EOF when it is done.
    for fd: Int32 in 0...2 { close(fd) }
    var status: Int32 = 0
    while waitpid(child, &status, 0) < 0 && errno == EINTR {}
    exit(decodeWaitStatus(status).code)
}

/// Moves this process into each cgroup of the target that differs from its own.
private func joinCgroups(of target: String) {
    func parse(_ text: String?) -> [String: String] {
        var result: [String: String] = [:]
        for line in (text ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if fields.count == 3 { result[String(fields[1])] = String(fields[2]) }
        }
        return result
    }
    let mine = parse(readSmallFile("/proc/self/cgroup"))
    let me = "\(getpid())\n"
    for (controllers, path) in parse(readSmallFile("\(target)/cgroup")) where mine[controllers] != path {
        var candidates: [String] = []
        if controllers.isEmpty {
            candidates = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        } else {
            let names = controllers.split(separator: ",").map { $0.hasPrefix("name=") ? String($0.dropFirst(5)) : String($0) }
            candidates = ["/sys/fs/cgroup/" + names.joined(separator: ",")] + names.map { "/sys/fs/cgroup/" + $0 }
        }
        for root in candidates {
            let isV2 = access(root + "/cgroup.controllers", F_OK) == 0
            if controllers.isEmpty != isV2 { continue }
            if writeExisting(root + path + "/cgroup.procs", me) == 0 { break }
        }
    }
}
