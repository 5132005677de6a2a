import Foundation
import KubeModel

/// Probe loops of running containers and what their results do: startup holds back the
/// others and kills on failure, liveness kills, readiness only flips Ready.
extension PodWorker {
    func probeTarget(_ spec: JSONValue, id: ContainerID) -> ProbeTarget {
        ProbeTarget(podIP: sandbox?.podIP ?? ctx.hostIP, containerID: id, container: spec, runtime: ctx.runtime)
    }

    /// Starts the probe loops a running container should have and does not yet.
    func ensureProbes(_ i: Int) {
        let s = appSlots[i]
        guard let id = s.current, s.probeTasks.isEmpty else { return }
        guard !ctx.simulated else {
            // Nothing to probe: the fake runtime's containers are started and ready at once.
            appSlots[i].startupSucceeded = true
            appSlots[i].readinessHealthy = true
            return
        }
        if s.hasStartupProbe && !s.startupSucceeded {
            appSlots[i].probeTasks = [spawnProbe(.startup, s, id)]
            return
        }
        var tasks: [Task<Void, Never>] = []
        for kind in [ProbeKind.liveness, .readiness] where s.spec["\(kind.rawValue)Probe"]?.objectValue != nil {
            tasks.append(spawnProbe(kind, s, id))
        }
        // A container without probes keeps an empty marker so this runs once per attempt.
        appSlots[i].probeTasks = tasks.isEmpty ? [Task {}] : tasks
    }

    private func spawnProbe(_ kind: ProbeKind, _ s: ContainerSlot, _ id: ContainerID) -> Task<Void, Never> {
        let probe = s.spec["\(kind.rawValue)Probe"] ?? .object([:])
        let worker = ProbeWorker(kind: kind, probe: probe, target: probeTarget(s.spec, id: id)) { [weak self] update in
            await self?.probeResult(container: id, update)
        }
        return Task { await worker.run() }
    }

    func stopProbes(_ slot: inout ContainerSlot) {
        for t in slot.probeTasks { t.cancel() }
        slot.probeTasks = []
    }

    /// A probe attempt finished: events for failures, state for transitions.
    func probeResult(container id: ContainerID, _ update: ProbeUpdate) async {
        guard let i = appSlots.firstIndex(where: { $0.current == id }) else { return }
        let s = appSlots[i]
        let label = update.kind.rawValue.prefix(1).uppercased() + update.kind.rawValue.dropFirst()
        if case .failure(let message) = update.attempt {
            await ctx.record(pod, "Warning", "Unhealthy", "\(label) probe failed: \(message)", container: s)
        }
        // Recording suspends: the attempt may have been replaced meanwhile.
        guard update.changed || (update.kind == .startup && update.healthy), appSlots[i].current == id else { return }
        switch update.kind {
        case .startup:
            if update.healthy {
                appSlots[i].startupSucceeded = true
                stopProbes(&appSlots[i])   // ensureProbes starts liveness and readiness next sync
            } else {
                await requestKill(i, reason: "Container \(s.name) failed startup probe, will be restarted", probe: s.spec["startupProbe"])
            }
        case .liveness:
            appSlots[i].livenessHealthy = update.healthy
            if !update.healthy {
                await requestKill(i, reason: "Container \(s.name) failed liveness probe, will be restarted", probe: s.spec["livenessProbe"])
            }
        case .readiness:
            appSlots[i].readinessHealthy = update.healthy
        }
        wake()
    }

    private func requestKill(_ i: Int, reason: String, probe: JSONValue?) async {
        guard let id = appSlots[i].current else { return }
        let grace = ProbeSpec.terminationGracePeriod(probe ?? .object([:]), podDefault: terminationGrace())
        pendingKills[appSlots[i].name] = (id.attempt, grace)
        await ctx.record(pod, "Normal", "Killing", reason, container: appSlots[i])
    }

    /// Stops containers whose probes failed; their exit then goes through the restart policy.
    func applyPendingKills() async {
        let kills = pendingKills
        pendingKills = [:]
        for (name, kill) in kills {
            guard let i = appSlots.firstIndex(where: { $0.name == name }), let id = appSlots[i].current,
                  id.attempt == kill.attempt, appSlots[i].isRunning else { continue }
            stopProbes(&appSlots[i])
            appSlots[i].killedByKubelet = "probe"
            await runPreStop(appSlots[i], id: id, budget: kill.grace)
            await ctx.runtime.stopContainer(id, gracePeriod: kill.grace)
            appSlots[i].runtimeState = await ctx.runtime.containerStatus(id) ?? appSlots[i].runtimeState
        }
    }
}
