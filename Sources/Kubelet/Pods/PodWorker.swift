import Foundation
import KubeClient
import KubeModel
import Logging

/// Runs one pod on this node: sandbox, volumes, init containers in order, app containers
/// with their restart policy and crash-loop back-off, probes, status, and graceful
/// termination. Every change to containers happens in `sync`, one at a time; informer
/// updates and probe results only record facts and wake the loop.
actor PodWorker {
    let uid: String
    let ctx: KubeletContext
    var pod: JSONValue
    /// The pod object is gone from the API server (force-deleted or finished deleting).
    var removed = false
    var initSlots: [ContainerSlot]
    var appSlots: [ContainerSlot]
    var sandbox: SandboxStatus?
    var volumePaths: [String: String]?
    var lastVolumeRefresh = ContinuousClock.now
    /// The status last written (or found on the object): writes happen only on change.
    var reported: JSONValue?
    /// The inputs of the last build that found nothing new to write: until they move, a
    /// periodic sync skips building the status (thousands of idle fake pods sync every 10 s).
    private var settledInputs: PodStatusBuilder.Inputs?
    /// Reached Succeeded or Failed: nothing starts again.
    var terminal = false
    var finished = false
    /// Kills requested by probes, applied in `sync`: container name → (attempt, grace, reason).
    var pendingKills: [String: (attempt: Int, grace: Duration)] = [:]
    /// One task per running container that wakes the worker when the container exits.
    var exitWatches: [ContainerID: Task<Void, Never>] = [:]

    private var sleeper: CheckedContinuation<Void, Never>?
    private var woken = false
    /// A wake came while the worker was not napping: its next nap returns at once (for tests).
    var hasPendingWake: Bool { woken }
    /// The worker is in a nap now (for tests).
    var isNapping: Bool { sleeper != nil }

    init(pod: JSONValue, ctx: KubeletContext, records: [ContainerRecord]) {
        self.uid = pod.uid ?? ""
        self.ctx = ctx
        self.pod = pod
        self.reported = pod["status"]
        let specs = { (key: String) in pod[path: ["spec", key]]?.arrayValue ?? [] }
        initSlots = specs("initContainers").map { ContainerSlot(name: $0["name"]?.stringValue ?? "", isInit: true, spec: $0) }
        appSlots = specs("containers").map { ContainerSlot(name: $0["name"]?.stringValue ?? "", isInit: false, spec: $0) }
        let phase = pod[path: ["status", "phase"]]?.stringValue
        terminal = phase == "Succeeded" || phase == "Failed"
        // After a kubelet restart: the newest attempt of each container is the current one.
        let previous = Self.statusesByName(pod)
        for i in initSlots.indices { Self.adopt(records, into: &initSlots[i], previous: previous) }
        for i in appSlots.indices { Self.adopt(records, into: &appSlots[i], previous: previous) }
    }

    private static func adopt(_ records: [ContainerRecord], into slot: inout ContainerSlot, previous: [String: JSONValue]) {
        let mine = records.filter { $0.id.name == slot.name }.max { $0.id.attempt < $1.id.attempt }
        slot.lastTerminated = previous[slot.name]?[path: ["lastState", "terminated"]]
        if let mine {
            slot.current = mine.id
            slot.runtimeState = mine.state
        } else if let count = previous[slot.name]?["restartCount"]?.intValue, previous[slot.name]?["containerID"] != nil {
            // Ran before but the runtime forgot it (e.g. the fake runtime): continue the numbering.
            slot.nextAttempt = Int(count) + 1
        }
    }

    static func statusesByName(_ pod: JSONValue) -> [String: JSONValue] {
        let all = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? [])
            + (pod[path: ["status", "initContainerStatuses"]]?.arrayValue ?? [])
        return Dictionary(all.compactMap { s in s["name"]?.stringValue.map { ($0, s) } }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: - inputs

    func update(_ newPod: JSONValue) {
        pod = newPod
        wake()
    }

    func podRemoved() {
        removed = true
        wake()
    }

    func wake() {
        if let s = sleeper {
            sleeper = nil
            s.resume()
        } else {
            woken = true
        }
    }

    // MARK: - loop

    func run() async {
        while !finished && !Task.isCancelled {
            await sync()
            if finished { break }
            watchExits()
            await nap(terminal ? .seconds(30) : ctx.syncInterval)
        }
        for i in appSlots.indices { stopProbes(&appSlots[i]) }
        for watch in exitWatches.values { watch.cancel() }
        exitWatches = [:]
    }

    /// Keeps one exit watch per running container: an exit wakes the worker at once, so a
    /// restart does not wait for the next periodic sync.
    private func watchExits() {
        let running = Set((initSlots + appSlots).filter(\.isRunning).compactMap(\.current))
        for (id, watch) in exitWatches where !running.contains(id) {
            watch.cancel()
            exitWatches[id] = nil
        }
        for id in running where exitWatches[id] == nil {
            let runtime = ctx.runtime
            exitWatches[id] = Task { [weak self] in
                await runtime.waitForExit(id)
                guard !Task.isCancelled else { return }
                await self?.wake()
            }
        }
    }

    func nap(_ d: Duration) async {
        if woken {
            woken = false
            return
        }
        let timer = Task { [weak self] in
            // Cancelled: the worker woke for another reason; a wake now would only cost it a
            // second sync.
            do { try await Task.sleep(for: d) } catch { return }
            await self?.wake()
        }
        // Cancellation (kubelet shutdown) wakes the worker at once instead of after `d`.
        await withTaskCancellationHandler {
            await withCheckedContinuation { sleeper = $0 }
        } onCancel: {
            timer.cancel()
            Task { [weak self] in await self?.wake() }
        }
        timer.cancel()
        woken = false
    }

    var isDeleting: Bool { removed || pod[path: ["metadata", "deletionTimestamp"]] != nil }
    var restartPolicy: String { pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always" }
    var name: String { pod.name ?? "" }
    var namespace: String { pod.namespace ?? "default" }

    func sync() async {
        if isDeleting {
            await terminate()
            finished = true
            return
        }
        await observeContainers()
        await applyPendingKills()
        if terminal {
            await report()
            return
        }
        guard await ensureSandbox(), await ensureVolumes() else {
            await report()
            return
        }
        await driveContainers()
        let builder = statusBuilder()
        let phase = builder.phase
        if phase == "Succeeded" || phase == "Failed" {
            terminal = true
            for i in appSlots.indices { stopProbes(&appSlots[i]) }
            try? await ctx.runtime.removeSandbox(podUID: uid)
        }
        await report()
    }

    /// Init containers one after another, then every app container.
    private func driveContainers() async {
        for i in initSlots.indices {
            if initSlots[i].exit?.code == 0 { continue }
            if initSlots[i].isRunning { return }
            if initSlots[i].exit != nil {
                if restartPolicy == "Never" { return }
                await restartAfterBackoff(init: true, i)
                return
            }
            if startGateOpen(initSlots[i]) { await start(init: true, i) }
            return
        }
        for i in appSlots.indices {
            if appSlots[i].isRunning {
                ensureProbes(i)
                continue
            }
            if let exit = appSlots[i].exit {
                let restarts = restartPolicy == "Always" || (restartPolicy == "OnFailure" && exit.code != 0)
                if restarts { await restartAfterBackoff(init: false, i) }
                continue
            }
            if startGateOpen(appSlots[i]) { await start(init: false, i) }
        }
    }

    /// Reads each current attempt's state from the runtime; a newly exited one stops its probes.
    /// Each slot changes in place once the runtime has answered: a probe result that lands
    /// meanwhile (the actor is reentrant) must not be overwritten by a copy taken before.
    func observeContainers() async {
        for i in initSlots.indices {
            guard let id = initSlots[i].current else { continue }
            let state = await ctx.runtime.containerStatus(id)
            if initSlots[i].current == id { apply(state, to: &initSlots[i]) }
        }
        for i in appSlots.indices {
            guard let id = appSlots[i].current else { continue }
            let state = await ctx.runtime.containerStatus(id)
            if appSlots[i].current == id { apply(state, to: &appSlots[i]) }
        }
    }

    private func apply(_ state: ContainerRuntimeState?, to slot: inout ContainerSlot) {
        let wasRunning = slot.isRunning
        guard let state else {
            // The runtime lost it (e.g. the node rebooted): after a few looks it counts as an
            // unknown exit. One unreadable record on a loaded node is not enough.
            if case .exited = slot.runtimeState { return }
            slot.missedLooks += 1
            if slot.missedLooks < 3 { return }
            let started = { if case .running(let s)? = slot.runtimeState { return s } else { return Date() } }()
            slot.runtimeState = .exited(exitCode: 137, signal: nil, reason: "ContainerStatusUnknown", startedAt: started, finishedAt: Date())
            stopProbes(&slot)
            return
        }
        slot.missedLooks = 0
        slot.runtimeState = state
        if wasRunning, case .exited = state { stopProbes(&slot) }
    }

    func statusBuilder() -> PodStatusBuilder {
        PodStatusBuilder(pod: pod, initSlots: initSlots, appSlots: appSlots, hostIP: ctx.hostIP,
                         podIP: sandbox?.podIP ?? reported?["podIP"]?.stringValue, sandboxReady: sandbox != nil)
    }

    /// Writes `status` when it changed (merge patch: the kubelet owns every field it sends).
    func report() async {
        guard !removed else { return }
        let builder = statusBuilder()
        let inputs = builder.inputs
        if inputs == settledInputs { return }
        let status = builder.build(previous: reported ?? pod["status"])
        if PodStatusBuilder.sameStatus(reported, status) {
            settledInputs = inputs
            return
        }
        settledInputs = nil
        let path = "/api/v1/namespaces/\(namespace)/pods/\(name)/status"
        do {
            let updated = try await ctx.client.patch(path, ["metadata": ["uid": .string(uid)], "status": status], type: .merge)
            reported = updated["status"] ?? status
        } catch {
            if (error as? KubeAPIError)?.code == 404 { removed = true }
            ctx.logger.debug("pod status update failed", metadata: ["pod": .string("\(namespace)/\(name)"), "error": .string("\(error)")])
        }
    }

    // MARK: - sandbox and volumes

    private func ensureSandbox() async -> Bool {
        if sandbox != nil { return true }
        let hostNetwork = pod[path: ["spec", "hostNetwork"]]?.boolValue ?? false
        do {
            sandbox = try await ctx.runtime.startSandbox(PodSandboxConfig(podUID: uid, namespace: namespace, name: name,
                                                                          hostNetwork: hostNetwork,
                                                                          resources: ResourceSpec.podLimits(pod),
                                                                          labels: pod.labels, annotations: pod.annotations))
            return true
        } catch {
            await ctx.record(pod, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: \(error)")
            return false
        }
    }

    private func ensureVolumes() async -> Bool {
        let podCtx = ctx.podContext(pod, podIP: sandbox?.podIP)
        if volumePaths != nil {
            if ContinuousClock.now - lastVolumeRefresh > .seconds(10) {
                lastVolumeRefresh = .now
                await ctx.volumes.refresh(podCtx)
            }
            return true
        }
        do {
            if ctx.simulated {
                try await ctx.volumes.resolveClaims(podCtx)
                volumePaths = [:]
                return true
            }
            volumePaths = try await ctx.volumes.prepare(podCtx)
            lastVolumeRefresh = .now
            return true
        } catch {
            let message = (error as? ContainerStartError)?.message ?? "\(error)"
            for i in appSlots.indices where appSlots[i].current == nil {
                appSlots[i].waiting = ("ContainerCreating", message)
            }
            await ctx.record(pod, "Warning", "FailedMount", "MountVolume.SetUp failed: \(message)")
            return false
        }
    }
}
