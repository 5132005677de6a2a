import Foundation
import KubeModel

/// Starting and restarting containers.
extension PodWorker {
    func slot(init isInit: Bool, _ i: Int) -> ContainerSlot { isInit ? initSlots[i] : appSlots[i] }

    func setSlot(init isInit: Bool, _ i: Int, _ body: (inout ContainerSlot) -> Void) {
        if isInit { body(&initSlots[i]) } else { body(&appSlots[i]) }
    }

    /// Restarts an exited container once its crash-loop delay has passed; until then it
    /// waits with reason CrashLoopBackOff.
    func restartAfterBackoff(init isInit: Bool, _ i: Int) async {
        let s = slot(init: isInit, i)
        if let notBefore = s.notBefore {
            if ContinuousClock.now >= notBefore { await start(init: isInit, i) }
            return
        }
        var ranFor = Duration.zero
        if case .exited(_, _, _, let startedAt, let finishedAt)? = s.runtimeState {
            ranFor = .milliseconds(Int64(max(0, finishedAt.timeIntervalSince(startedAt)) * 1000))
        }
        var backoff = s.backoff
        let delay = backoff.next(ranFor: ranFor)
        setSlot(init: isInit, i) { $0.backoff = backoff }
        if delay == .zero {
            await start(init: isInit, i)
            return
        }
        let seconds = delay.components.seconds
        setSlot(init: isInit, i) {
            $0.notBefore = .now + delay
            $0.waiting = ("CrashLoopBackOff",
                          "back-off \(Self.humanDuration(seconds)) restarting failed container=\(s.name) pod=\(name)_\(namespace)(\(uid))")
        }
        await ctx.record(pod, "Warning", "BackOff", "Back-off restarting failed container \(s.name) in pod \(name)_\(namespace)(\(uid))",
                         container: s)
        // Come back when the delay is over even if nothing else wakes the worker.
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.wake()
        }
    }

    static func humanDuration(_ seconds: Int64) -> String {
        seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }

    /// Starts the next attempt of a container: environment, mounts, the runtime, postStart.
    func start(init isInit: Bool, _ i: Int) async {
        let s = slot(init: isInit, i)
        let attempt = max(s.nextAttempt, (s.current?.attempt ?? -1) + 1)
        let id = ContainerID(podUID: uid, name: s.name, attempt: attempt)
        let spec = s.spec
        guard await pullImage(init: isInit, i) else { return }
        let config: ContainerConfig
        do {
            config = try await containerConfig(spec, id: id)
        } catch {
            let failure = error as? ContainerStartError ?? ContainerStartError(reason: "CreateContainerConfigError", message: "\(error)")
            await failStart(init: isInit, i, failure)
            return
        }
        let previous = s.current
        if let previous {
            // Never two attempts at once: whatever the runtime still runs of the last one goes
            // first (a no-op for an attempt that exited).
            await ctx.runtime.stopContainer(previous, gracePeriod: terminationGrace())
        }
        if attempt > 0 {
            ctx.logger.info("restarting container", metadata: ["pod": .string("\(namespace)/\(name)"), "container": .string(s.name),
                                                            "attempt": .stringConvertible(attempt)])
        }
        do {
            _ = try await ctx.runtime.startContainer(config)
        } catch {
            let failure = error as? ContainerStartError ?? ContainerStartError(reason: "RunContainerError", message: "\(error)")
            await failStart(init: isInit, i, failure)
            return
        }
        let state = await ctx.runtime.containerStatus(id) ?? .running(startedAt: Date())
        setSlot(init: isInit, i) {
            if let t = $0.terminated() { $0.lastTerminated = t }
            $0.current = id
            $0.nextAttempt = attempt + 1
            $0.runtimeState = state
            $0.waiting = nil
            $0.notBefore = nil
            $0.startupSucceeded = false
            $0.livenessHealthy = true
            $0.readinessHealthy = false
            $0.killedByKubelet = nil
        }
        // The previous attempt's log file stays for `kubectl logs --previous`; its record goes.
        if let previous { await ctx.runtime.removeContainer(previous) }
        await ctx.record(pod, "Normal", "Created", "Created container: \(s.name)", container: s)
        await ctx.record(pod, "Normal", "Started", "Started container \(s.name)", container: s)
        if isInit && ctx.simulated {
            // The fake runtime's containers never end by themselves: its init containers finish at once.
            await ctx.runtime.stopContainer(id, gracePeriod: .zero)
            setSlot(init: isInit, i) { $0.runtimeState = $0.runtimeState.map { _ in .exited(exitCode: 0, signal: nil, reason: "Completed", startedAt: Date(), finishedAt: Date()) } }
        }
        if let hook = spec[path: ["lifecycle", "postStart"]], hook.objectValue != nil {
            let target = probeTarget(spec, id: id)
            if let failure = await LifecycleHookRunner.run(hook, target: target, timeout: .seconds(30)) {
                await ctx.record(pod, "Warning", "FailedPostStartHook", "PostStartHook failed: \(failure)", container: s)
                await ctx.runtime.stopContainer(id, gracePeriod: terminationGrace())
                setSlot(init: isInit, i) { $0.killedByKubelet = "FailedPostStartHook" }
            }
        }
    }

    private func failStart(init isInit: Bool, _ i: Int, _ failure: ContainerStartError) async {
        let s = slot(init: isInit, i)
        var backoff = s.backoff
        let delay = max(backoff.next(ranFor: .zero), .seconds(1))
        setSlot(init: isInit, i) {
            $0.backoff = backoff
            $0.notBefore = .now + delay
            $0.waiting = (failure.reason, failure.message)
        }
        await ctx.record(pod, "Warning", "Failed", "Error: \(failure.message)", container: s)
        if failure.reason == "ErrImagePull" {
            await ctx.record(pod, "Warning", "Failed", "Failed to pull image \"\(s.spec["image"]?.stringValue ?? "")\": \(failure.message)",
                             container: s)
        }
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.wake()
        }
    }

    /// Retry of a container that could not start waits for its back-off too.
    func startGateOpen(_ s: ContainerSlot) -> Bool {
        guard let notBefore = s.notBefore else { return true }
        return ContinuousClock.now >= notBefore
    }

    /// The container resolved for the runtime: env from its sources, $(VAR) in command and
    /// args, mounts of the prepared volumes, limits, and the log path of this attempt.
    func containerConfig(_ spec: JSONValue, id: ContainerID) async throws -> ContainerConfig {
        let podCtx = ctx.podContext(pod, podIP: sandbox?.podIP)
        let env = ctx.simulated ? [] : try await EnvResolver.resolve(container: spec, context: podCtx, source: ctx.objects)
        let lookup = Dictionary(env.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        let strings = { (key: String) in (spec[key]?.arrayValue ?? []).compactMap(\.stringValue).map { EnvResolver.expand($0, env: lookup) } }
        var mounts = ctx.simulated ? [] : try VolumeManager.mounts(for: spec, volumes: volumePaths ?? [:], env: lookup,
                                                                         readOnlyVolumes: ClaimVolume.readOnlyVolumes(of: pod))
        mounts += await dnsMounts(spec)
        var config = ContainerConfig(
            id: id, namespace: namespace, podName: name, image: spec["image"]?.stringValue ?? "",
            command: strings("command"), args: strings("args"), env: env,
            workingDir: spec["workingDir"]?.stringValue, mounts: mounts, limits: ResourceSpec.limits(spec),
            logPath: ctx.paths.containerLogPath(namespace: namespace, pod: name, uid: uid, container: id.name, attempt: id.attempt),
            stdin: spec["stdin"]?.boolValue ?? false, tty: spec["tty"]?.boolValue ?? false)
        config.stdinOnce = spec["stdinOnce"]?.boolValue ?? false
        config.security = ContainerSecurity(container: spec, pod: pod)
        config.hostname = pod[path: ["spec", "hostname"]]?.stringValue ?? name
        return config
    }

    /// /etc/resolv.conf and /etc/hosts for the container. Only root can bind-mount them; a
    /// failure to write them is reported and the container starts with the node's files.
    func dnsMounts(_ spec: JSONValue) async -> [Mount] {
        guard let files = ctx.podDNS, !ctx.simulated, geteuid() == 0 else { return [] }
        do {
            let prepared = try files.prepare(pod: pod, podIPs: [sandbox?.podIP ?? ""], podDirectory: ctx.paths.podDirectory(uid),
                                             container: spec)
            if let warning = prepared.warning { await ctx.record(pod, "Warning", warning.reason, warning.message) }
            return prepared.mounts
        } catch {
            await ctx.record(pod, "Warning", "DNSConfigForming", "writing the pod's resolv.conf and hosts: \(error)")
            return []
        }
    }

    /// The pod's grace period: deletion's when deleting, else the spec's (default 30 s).
    func terminationGrace() -> Duration {
        let seconds = pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue
            ?? pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        return .seconds(max(0, seconds))
    }
}
