#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct RunOptions {
    var containerDir = ""
    var logPath = ""
    var logMaxBytes = 10 * 1024 * 1024
    var logMaxFiles = 5
    var netns: String?
    var cgroups: [String] = []
    var mounts: [(source: String, target: String, readOnly: Bool)] = []
    var workdir: String?
    /// `stdin: true` (a pipe) or `tty: true` (a pseudo-terminal) in the pod spec: see `Console`.
    var console: Console.Mode?
    var stdinOnce = false
    var argv: [String] = []
}

/// What failed in the child before or at exec, sent to the parent over a close-on-exec pipe
/// (EOF on that pipe means exec succeeded).
private enum ChildStage: Int32 {
    case cgroup = 1, chdir = 2, exec = 3
}

/// Sets up namespaces and mounts, runs the container's process, logs its output and records
/// its exit. Never returns.
func runContainer(_ options: RunOptions) -> Never {
    // The kubelet signals the container's process group, never the shim; a terminal's ^C or
    // the kubelet's death must not take the shim (and so the exit record) with it.
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    signal(SIGHUP, SIG_IGN)
    signal(SIGPIPE, SIG_IGN)
    // Detach: the runtime only waits for this first process; the monitor lives on as an orphan,
    // so it needs no reaping by the kubelet and outlives it.
    let first = fork()
    guard first >= 0 else { fail("fork: \(errnoString(errno))") }
    if first > 0 { _exit(0) }
    closeInheritedDescriptors()
    _ = setsid()
    let dir = options.containerDir
    guard makeDirectories(dir) else { fail("cannot create \(dir): \(errnoString(errno))") }
    writeFileAtomically(dir + "/shim.pid", "\(getpid())\n")

    if let netns = options.netns {
        let fd = open(netns, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { fail("open \(netns): \(errnoString(errno))") }
        guard setns(fd, CLONE_NEWNET) == 0 else { fail("setns \(netns): \(errnoString(errno))") }
        close(fd)
    }
    if !options.mounts.isEmpty { setUpMounts(options.mounts) }

    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    var statusPipe: [Int32] = [-1, -1]
    guard cloexecPipe(&outPipe), cloexecPipe(&errPipe), cloexecPipe(&statusPipe) else {
        fail("pipe: \(errnoString(errno))")
    }
    let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
    let cArgv = makeCArgv(options.argv)
    let cgroupProcs = options.cgroups.map { $0 + "/cgroup.procs" }
    var console = options.console.map { Console(mode: $0, directory: dir, stdinOnce: options.stdinOnce) }
    let tty = console?.mode == .tty
    let childStdin = console?.childEnd ?? devNull

    let child = fork()
    guard child >= 0 else { fail("fork: \(errnoString(errno))") }
    if child == 0 {
        runChild(options: options, cgroupProcs: cgroupProcs, argv: cArgv, stdin: childStdin,
                 stdout: tty ? childStdin : outPipe[1], stderr: tty ? childStdin : errPipe[1], status: statusPipe[1], tty: tty)
    }
    if !tty { _ = setpgid(child, child) }
    close(outPipe[1]); close(errPipe[1]); close(statusPipe[1]); close(devNull)
    console?.closeChildEnd()
    if tty {
        // One stream, the terminal's.
        close(outPipe[0]); close(errPipe[0])
        outPipe[0] = console?.output ?? -1
        errPipe[0] = -1
    }

    let failure = readChildFailure(statusPipe[0])
    close(statusPipe[0])
    writeFileAtomically(dir + "/pid", "\(child)\n")
    writeFileAtomically(dir + "/started", rfc3339NanoNow() + "\n")
    var execError: String?
    if let (stage, code) = failure {
        let program = options.argv.first ?? ""
        switch stage {
        case .cgroup: execError = "joining cgroup: \(errnoString(code))"
        case .chdir: execError = "chdir \(options.workdir ?? ""): \(errnoString(code))"
        case .exec: execError = "exec \(program): \(errnoString(code))"
        }
    }

    var log = LogWriter(path: options.logPath, maxBytes: options.logMaxBytes, maxFiles: options.logMaxFiles)
    let status = pumpOutput(child: child, stdout: outPipe[0], stderr: errPipe[0], log: &log, console: &console)
    console?.shutDown(directory: dir)
    let (code, sig) = decodeWaitStatus(status)
    let json = "{\"exitCode\":\(code),\"signal\":\(sig.map(String.init) ?? "null"),"
        + "\"finishedAt\":\"\(rfc3339NanoNow())\",\"execError\":\(execError.map(jsonString) ?? "null")}\n"
    writeFileAtomically(dir + "/exit", json)
    exit(0)
}

/// Runs in the forked child: only async-signal-safe-ish calls on prepared data, then exec.
private func runChild(options: RunOptions, cgroupProcs: [String], argv: [UnsafeMutablePointer<CChar>?],
                      stdin: Int32, stdout: Int32, stderr: Int32, status: Int32, tty: Bool) -> Never {
    func report(_ stage: ChildStage, _ code: Int32) -> Never {
        var message: [Int32] = [stage.rawValue, code]
        _ = message.withUnsafeMutableBytes { write(status, $0.baseAddress, 8) }
        _exit(code == ENOENT ? 127 : 126)
    }
    if tty {
        // A session of its own with the terminal as its controlling terminal (its process
        // group is still its PID, which is what the kubelet signals).
        _ = setsid()
        _ = ioctl(stdin, UInt(TIOCSCTTY), 0)
    } else {
        _ = setpgid(0, 0)
    }
    resetSignals()
    // The child joins the cgroups, not the shim: the shim's memory must not count against the
    // container's limit, and an OOM kill in the container must not take the shim with it.
    let me = "\(getpid())\n"
    for procs in cgroupProcs {
        let code = writeExisting(procs, me)
        if code != 0 { report(.cgroup, code) }
    }
    if let workdir = options.workdir, chdir(workdir) != 0 { report(.chdir, errno) }
    if stdin >= 0 { dup2(stdin, 0) }
    dup2(stdout, 1)
    dup2(stderr, 2)
    guard let program = argv.first, let path = program else { report(.exec, ENOENT) }
    execvp(path, argv)
    report(.exec, errno)
}

private func readChildFailure(_ fd: Int32) -> (ChildStage, Int32)? {
    var message: [Int32] = [0, 0]
    var got = 0
    while got < 8 {
        let n = message.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + got }, 8 - got) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        got += n
    }
    guard got == 8, let stage = ChildStage(rawValue: message[0]) else { return nil }
    return (stage, message[1])
}

/// Copies the child's output into the log until it exits. Returns its wait status.
private func pumpOutput(child: pid_t, stdout: Int32, stderr: Int32, log: inout LogWriter, console: inout Console?) -> Int32 {
    var splitters = [LineSplitter(stream: "stdout"), LineSplitter(stream: "stderr")]
    var fds = [stdout, stderr]
    var buffer = [UInt8](repeating: 0, count: 32 * 1024)
    var status: Int32?
    while fds[0] >= 0 || fds[1] >= 0 {
        var polled = fds.enumerated().filter { $0.element >= 0 }.map { (index: $0.offset, pfd: pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0)) }
        let consoleFDs = console?.pollDescriptors ?? []
        var pfds = polled.map(\.pfd) + consoleFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ready = poll(&pfds, nfds_t(pfds.count), 100)
        if ready < 0 && errno != EINTR { break }
        for i in 0..<polled.count { polled[i].pfd = pfds[i] }
        for pfd in pfds[polled.count...] where pfd.revents != 0 { console?.handle(pfd.fd) }
        for entry in polled where entry.pfd.revents != 0 {
            let n = buffer.withUnsafeMutableBytes { read(entry.pfd.fd, $0.baseAddress, 32 * 1024) }
            if n > 0 {
                splitters[entry.index].feed(buffer[0..<n], into: &log)
                console?.broadcast(stream: UInt8(entry.index + 1), buffer[0..<n])
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                splitters[entry.index].flush(into: &log)
                close(entry.pfd.fd)
                fds[entry.index] = -1
            }
        }
        if status != nil {
            // The child is gone but something it started still holds the pipes: once they go
            // quiet, stop waiting for it (the kubelet kills the process group anyway).
            if ready == 0 { break }
        } else {
            var raw: Int32 = 0
            if waitpid(child, &raw, WNOHANG) == child { status = raw }
        }
    }
    for index in 0..<2 { splitters[index].flush(into: &log) }
    if let status { return status }
    var raw: Int32 = 0
    while waitpid(child, &raw, 0) < 0 && errno == EINTR {}
    return raw
}

private func setUpMounts(_ mounts: [(source: String, target: String, readOnly: Bool)]) {
    guard unshare(CLONE_NEWNS) == 0 else { fail("unshare(CLONE_NEWNS): \(errnoString(errno))") }
    // Private, so the bind mounts below never propagate back to the node.
    guard mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
        fail("making / private: \(errnoString(errno))")
    }
    for m in mounts {
        // A missing mount point is created on the node's filesystem: the process runtime has no
        // root filesystem of its own, so container paths are node paths.
        if isDirectory(m.source) {
            guard makeDirectories(m.target) else { fail("mkdir \(m.target): \(errnoString(errno))") }
        } else if access(m.target, F_OK) != 0 {
            if let slash = m.target.lastIndex(of: "/") { _ = makeDirectories(String(m.target[..<slash])) }
            let fd = open(m.target, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
        }
        guard mount(m.source, m.target, nil, UInt(MS_BIND | MS_REC), nil) == 0 else {
            fail("bind mount \(m.source) on \(m.target): \(errnoString(errno))")
        }
        if m.readOnly {
            guard mount(nil, m.target, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC), nil) == 0 else {
                fail("remount \(m.target) read-only: \(errnoString(errno))")
            }
        }
    }
}
