import KubeModel
import Foundation
import Logging

/// Runs each container as a real process under a `caravel-shim` monitor. All state lives in the
/// container directories (`ROOT/pods/<uid>/containers/<name>/<attempt>/`: config.json, shim.pid,
/// pid, started, exit), so a new instance after a kubelet restart finds running and exited
/// containers, and the shims outlive the kubelet.
public final class ProcessRuntime: ContainerRuntime {
    public let name = "process"
    let paths: KubeletPaths
    let shimPath: String
    let network: (any SandboxNetwork)?
    let cgroups: Cgroups
    let resolver: ImageResolver
    let logMaxBytes: Int
    let logMaxFiles: Int
    let logger: Logger
    private let warned = Locked<Set<String>>([])
    /// Containers whose `startContainer` is under way in this process: their directory already
    /// holds config.json but the shim may not have written shim.pid yet, and a concurrent
    /// status query must not take that for a dead shim.
    let starting = Locked<Set<ContainerID>>([])
    let exitRecords = ExitRecordWatcher()
    /// How long after writing a container's config its shim must have recorded its pid: past
    /// that, a container with neither shim nor child is lost rather than starting.
    let launchGrace: TimeInterval
    /// Containers run in a child of their cgroup that goes when they exit (the OCI runtime's
    /// runc): an exit code of 137 is a SIGKILL, and the OOM verdict reads what the parent kept.
    let containersInChildCgroups: Bool

    public init(paths: KubeletPaths, shimPath: String, network: (any SandboxNetwork)?, cgroupParent: String = "caravel",
                logMaxBytes: Int = 10 * 1024 * 1024, logMaxFiles: Int = 5, launchGrace: TimeInterval = 60,
                containersInChildCgroups: Bool = false, logger: Logger) {
        self.paths = paths
        self.containersInChildCgroups = containersInChildCgroups
        self.launchGrace = launchGrace
        self.shimPath = shimPath
        self.network = network
        self.cgroups = Cgroups(parent: cgroupParent)
        self.resolver = ImageResolver(imagesDirectory: paths.root + "/images")
        self.logMaxBytes = logMaxBytes
        self.logMaxFiles = logMaxFiles
        self.logger = logger
        // Writing to the stdin of an exec whose process has exited must not kill the kubelet.
        signal(SIGPIPE, SIG_IGN)
    }

    func warnOnce(_ key: String, _ message: @autoclosure () -> String) {
        if warned.withLock({ $0.insert(key).inserted }) { logger.warning("\(message())") }
    }

    func record(_ id: ContainerID) -> ShimRecord { ShimRecord(directory: paths.containerDirectory(id)) }

    func sandboxRecordPath(_ podUID: String) -> String { paths.podDirectory(podUID) + "/process-sandbox.json" }

    // MARK: Sandbox

    public func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus {
        let status: SandboxStatus
        if let network, !config.hostNetwork {
            status = try await network.setUp(podUID: config.podUID)
        } else {
            status = SandboxStatus(podIP: await network?.hostIP() ?? HostAddress.firstIPv4(), networkNamespacePath: nil)
        }
        try FileManager.default.createDirectory(atPath: paths.podDirectory(config.podUID), withIntermediateDirectories: true)
        if cgroups.enabled {
            do {
                try cgroups.create(podUID: config.podUID, container: nil, limits: config.resources)
            } catch {
                warnOnce("pod-cgroup", "pod cgroups unavailable, limits not enforced: \(error)")
            }
        } else if let reason = cgroups.unavailableReason {
            warnOnce("cgroups", "cgroups unavailable (\(reason)): memory, cpu and pids limits are not enforced")
        }
        let saved = ProcessSandboxRecord(podIP: status.podIP, networkNamespace: status.networkNamespacePath,
                                         hostNetwork: config.hostNetwork)
        try ShimRecord.encode(saved, to: sandboxRecordPath(config.podUID))
        return status
    }

    public func removeSandbox(podUID: String) async throws {
        for id in containerIDs(podUID: podUID) {
            await stopContainer(id, gracePeriod: .zero)
            _ = await containerStatus(id) // settles the OOM verdict while the cgroup still exists
        }
        let saved = ShimRecord.decode(ProcessSandboxRecord.self, at: sandboxRecordPath(podUID))
        if let network, saved?.hostNetwork != true { await network.tearDown(podUID: podUID) }
        await killLeftovers(podUID: podUID, container: nil)
        await cgroups.remove(podUID: podUID, container: nil)
        try? FileManager.default.removeItem(atPath: sandboxRecordPath(podUID))
    }

    // MARK: Containers

    public func startContainer(_ config: ContainerConfig) async throws -> ContainerID {
        starting.withLock { _ = $0.insert(config.id) }
        defer { starting.withLock { _ = $0.remove(config.id) } }
        switch priorStart(config.id) {
        case .ran: return config.id
        case .failed: try? FileManager.default.removeItem(atPath: record(config.id).directory)
        case .none: break
        }
        let env = Self.environment(config.env)
        var resolver = self.resolver
        resolver.searchPath = Spawner.dictionary(env)["PATH"] ?? ImageResolver.defaultPath
        let argv = try resolver.resolve(image: config.image, command: config.command, args: config.args)
        try await launch(config, argv: argv, env: env, isolated: true)
        return config.id
    }

    enum PriorStart { case none, ran, failed }

    /// Whether this attempt was started before (possibly by a previous kubelet): one that ran
    /// must never run twice; one whose start failed (exec error, no monitor) may be retried.
    func priorStart(_ id: ContainerID) -> PriorStart {
        let record = record(id)
        guard record.config() != nil else { return .none }
        let failedStart = record.exit()?.execError != nil || (record.pid() == nil && record.exit() == nil && !shimAlive(record))
        return failedStart ? .failed : .ran
    }

    /// Writes the container's record and starts its shim, which runs `argv`. `isolated`: the
    /// shim itself joins the pod's network namespace and cgroups and mounts the volumes; an
    /// OCI runtime's `runc` does all that itself and the shim only watches it and its output.
    func launch(_ config: ContainerConfig, argv: [String], env: [String], isolated: Bool) async throws {
        let record = record(config.id)
        let fm = FileManager.default
        let envDict = Spawner.dictionary(env)
        let sandbox = isolated ? ShimRecord.decode(ProcessSandboxRecord.self, at: sandboxRecordPath(config.id.podUID)) : nil

        do {
            try fm.createDirectory(atPath: record.directory, withIntermediateDirectories: true)
        } catch {
            throw ContainerStartError(reason: "CreateContainerError", message: "creating \(record.directory): \(error)")
        }
        var cgroupDirs: [String] = []
        if cgroups.enabled && isolated {
            do {
                cgroupDirs = try cgroups.create(podUID: config.id.podUID, container: config.id, limits: config.limits)
            } catch {
                warnOnce("container-cgroup", "container cgroups unavailable, limits not enforced: \(error)")
            }
        }
        var mounts = isolated ? config.mounts : []
        if !mounts.isEmpty && geteuid() != 0 {
            warnOnce("mounts", "not root: volumes are not mounted at their container paths; use them from the pod directory")
            mounts = []
        }
        let shimConfig = ShimConfig(
            podUID: config.id.podUID, name: config.id.name, attempt: config.id.attempt, namespace: config.namespace,
            podName: config.podName, image: config.image, argv: argv, env: env, workingDir: config.workingDir,
            logPath: config.logPath, cgroups: cgroupDirs, networkNamespace: sandbox?.networkNamespace, createdAt: Date())
        do {
            try record.save(shimConfig)
        } catch {
            throw ContainerStartError(reason: "CreateContainerError", message: "writing \(record.configPath): \(error)")
        }

        var shimArgs = [shimPath, "run", "--container-dir", record.directory, "--log-path", config.logPath,
                        "--log-max-bytes", String(logMaxBytes), "--log-max-files", String(logMaxFiles)]
        if let netns = sandbox?.networkNamespace { shimArgs += ["--netns", netns] }
        for dir in cgroupDirs { shimArgs += ["--cgroup", dir] }
        // The shim splits SRC:DST:MODE at the first colon and the last: paths with ':' in the
        // source are not supported.
        for mount in mounts { shimArgs += ["--mount", "\(mount.hostPath):\(mount.containerPath):\(mount.readOnly ? "ro" : "rw")"] }
        if isolated, let dir = config.workingDir, !dir.isEmpty { shimArgs += ["--workdir", dir] }
        if config.tty || config.stdin {
            shimArgs += ["--console", config.tty ? "tty" : "stdin", "--stdin-once", config.stdinOnce ? "1" : "0"]
        }
        shimArgs += ["--"] + argv

        _ = fm.createFile(atPath: record.shimLogPath, contents: nil)
        guard let shimLog = FileHandle(forWritingAtPath: record.shimLogPath) else {
            throw ContainerStartError(reason: "CreateContainerError", message: "cannot write \(record.shimLogPath)")
        }
        defer { try? shimLog.close() }
        do {
            // The first shim process forks the monitor and exits at once; waiting for it reaps it.
            let launched = try Spawner.start(shimArgs, environment: envDict, stdin: nil, stdout: shimLog, stderr: shimLog)
            _ = await launched.exit.value
        } catch {
            throw ContainerStartError(reason: "CreateContainerError", message: "starting \(shimPath): \(error)")
        }
        try await waitUntilStarted(record)
        if let pid = record.pid(), let info = ProcFS.stat(pid) {
            var updated = shimConfig
            updated.pidStartTime = info.startTime
            try? record.save(updated)
        }
        if let exit = record.exit(), let message = exit.execError {
            throw ContainerStartError(reason: "RunContainerError", message: message)
        }
    }

    /// Waits for the shim to report the child's pid (and, when exec failed, its exit record).
    private func waitUntilStarted(_ record: ShimRecord) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while clock.now < deadline {
            if let pid = record.pid() {
                // An exec failure is recorded right after the pid: wait for it when the child is gone.
                var tries = 0
                while record.exit() == nil && !ProcFS.isAlive(pid, startTime: nil) && shimAlive(record) && tries < 200 {
                    try? await Task.sleep(for: .milliseconds(10))
                    tries += 1
                }
                return
            }
            if record.shimPid() != nil, !shimAlive(record), record.pid() == nil {
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        let log = (try? String(contentsOfFile: record.shimLogPath, encoding: .utf8)) ?? ""
        throw ContainerStartError(reason: "CreateContainerError",
                                  message: log.isEmpty ? "caravel-shim did not start the container" : log.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func shimAlive(_ record: ShimRecord) -> Bool {
        record.shimPid().map { ProcFS.isAlive($0, startTime: nil) } ?? false
    }

    /// Whether the shim is known to be gone: it recorded its pid and no such process lives.
    /// A shim.pid that cannot be read is not proof of anything.
    func shimGone(_ record: ShimRecord) -> Bool {
        guard let pid = record.shimPid() else { return false }
        return ProcFS.isGone(pid, startTime: nil)
    }

    /// Deduplicated `NAME=value` list, later entries winning, with a `PATH` when the pod sets
    /// none (what an image's default environment would give).
    static func environment(_ env: [(name: String, value: String)]) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        for (name, value) in env {
            if values[name] == nil { order.append(name) }
            values[name] = value
        }
        if values["PATH"] == nil {
            order.append("PATH")
            values["PATH"] = ImageResolver.defaultPath
        }
        return order.map { "\($0)=\(values[$0] ?? "")" }
    }

    public func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {
        let record = record(id)
        guard let config = record.config() else { return }
        let clock = ContinuousClock()
        // A start still in progress (no pid yet): give it a moment so the process is not missed.
        var waited = 0
        while record.pid() == nil && record.exit() == nil && shimAlive(record) && waited < 500 {
            try? await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        guard let pid = record.pid() else { return }
        if ProcFS.isAlive(pid, startTime: config.pidStartTime) {
            signalGroup(pid, SIGTERM)
            let deadline = clock.now + gracePeriod
            while ProcFS.isAlive(pid, startTime: config.pidStartTime) && clock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            // Also reaches what the main process left behind in its group.
            signalGroup(pid, SIGKILL)
            let killDeadline = clock.now + .seconds(30)
            while ProcFS.isAlive(pid, startTime: config.pidStartTime) && clock.now < killDeadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        // The shim records the exit once it has reaped the child.
        let exitDeadline = clock.now + .seconds(10)
        while record.exit() == nil && shimAlive(record) && clock.now < exitDeadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    private func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if kill(-pid, signal) != 0 { _ = kill(pid, signal) }
    }

    public func waitForExit(_ id: ContainerID) async {
        let record = record(id)
        guard record.config() != nil, record.exit() == nil else { return }
        await exitRecords.waitForExitRecord(in: record.directory)
    }

    public func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? {
        let record = record(id)
        guard let config = record.config() else { return nil }
        return await state(record, config: config)
    }

    public func listContainers() async -> [ContainerRecord] {
        var result: [ContainerRecord] = []
        let pods = (try? FileManager.default.contentsOfDirectory(atPath: paths.podsDirectory)) ?? []
        for podUID in pods.sorted() {
            for id in containerIDs(podUID: podUID) {
                let record = record(id)
                guard let config = record.config(), let state = await state(record, config: config) else { continue }
                result.append(ContainerRecord(id: config.id, state: state, logPath: config.logPath))
            }
        }
        return result
    }

    /// The containers with a record under ROOT/pods/<uid>/containers/<name>/<attempt>/.
    func containerIDs(podUID: String) -> [ContainerID] {
        let fm = FileManager.default
        let base = paths.podDirectory(podUID) + "/containers"
        var ids: [ContainerID] = []
        for name in ((try? fm.contentsOfDirectory(atPath: base)) ?? []).sorted() {
            for attempt in ((try? fm.contentsOfDirectory(atPath: base + "/" + name)) ?? []).compactMap(Int.init).sorted() {
                let id = ContainerID(podUID: podUID, name: name, attempt: attempt)
                if fm.fileExists(atPath: record(id).configPath) { ids.append(id) }
            }
        }
        return ids
    }

    public func removeContainer(_ id: ContainerID) async {
        let record = record(id)
        guard record.config() != nil else { return }
        await stopContainer(id, gracePeriod: .zero)
        await killLeftovers(podUID: id.podUID, container: id)
        await cgroups.remove(podUID: id.podUID, container: id)
        try? FileManager.default.removeItem(atPath: record.directory)
    }

    /// SIGKILLs what is left in the cgroups (background processes of an exited main process,
    /// exec sessions) and waits briefly for them to go, so the cgroups can be removed.
    private func killLeftovers(podUID: String, container: ContainerID?) async {
        for _ in 0..<100 {
            let pids = cgroups.processes(podUID: podUID, container: container)
            if pids.isEmpty { return }
            for pid in pids { kill(pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}

extension ProcessRuntime {
    /// Connects to `port` on the pod's loopback, inside its network namespace (the node's for
    /// host-network pods).
    public func connectToPodPort(podUID: String, port: Int) async throws -> Int32 {
        guard let sandbox = ShimRecord.decode(ProcessSandboxRecord.self, at: sandboxRecordPath(podUID)) else {
            throw PodPortDialError(message: "pod sandbox \(podUID) not found")
        }
        return try await PodPortDialer.connect(netns: sandbox.networkNamespace, port: port)
    }

    /// Through the shim's attach socket in the container directory.
    public func attach(_ id: ContainerID) async throws -> any ExecSession {
        let record = record(id)
        guard record.exit() == nil, record.pid() != nil else {
            throw ContainerStartError(reason: "ContainerNotRunning", message: "container \(id) is not running")
        }
        return try ConsoleAttachSession(containerDirectory: record.directory)
    }
}
