import Foundation
import KubeClient
import KubeModel

/// Graceful termination: preStop hooks and SIGTERM within the grace period, SIGKILL after it,
/// then the sandbox and volumes go, and only then is the pod object removed.
extension PodWorker {
    func terminate() async {
        let grace = removed ? .seconds(2) : terminationGrace()
        for i in initSlots.indices { stopProbes(&initSlots[i]) }
        for i in appSlots.indices { stopProbes(&appSlots[i]) }
        let running = (initSlots + appSlots).filter(\.isRunning)
        await withTaskGroup(of: Void.self) { group in
            for s in running {
                guard let id = s.current else { continue }
                await ctx.record(pod, "Normal", "Killing", "Stopping container \(s.name)", container: s)
                group.addTask { [self] in
                    let clock = ContinuousClock()
                    let began = clock.now
                    await runPreStop(s, id: id, budget: grace)
                    let left = grace - (clock.now - began)
                    await ctx.runtime.stopContainer(id, gracePeriod: max(left, .zero))
                }
            }
        }
        for i in initSlots.indices { initSlots[i].runtimeState = await refreshed(initSlots[i]) }
        for i in appSlots.indices { appSlots[i].runtimeState = await refreshed(appSlots[i]) }
        if !removed { await report() }
        try? await ctx.runtime.removeSandbox(podUID: uid)
        for s in initSlots + appSlots { if let id = s.current { await ctx.runtime.removeContainer(id) } }
        await ctx.volumes.cleanup(podUID: uid)
        // Everything is gone from the node: now the object may go.
        await deleteObject()
    }

    /// Deletes the pod object (grace 0, this very pod), trying again until the server agrees or
    /// the object is gone: a delete lost while the server restarts would leave the pod
    /// terminating for ever, since nothing about it changes again to wake a worker.
    func deleteObject() async {
        let body: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0,
                               "preconditions": ["uid": .string(uid)]]
        var delay = Duration.milliseconds(200)
        while !removed && !Task.isCancelled {
            do {
                _ = try await ctx.client.delete("/api/v1/namespaces/\(namespace)/pods/\(name)", options: body)
                return
            } catch let e as KubeAPIError where e.isNotFound || e.code == 409 {
                return  // already gone, or the name now belongs to another pod
            } catch {
                ctx.logger.debug("final pod delete failed, trying again", metadata: [
                    "pod": .string("\(namespace)/\(name)"), "error": .string("\(error)"), "retryIn": .stringConvertible(delay)])
                await nap(delay)  // the informer's delete event (podRemoved) ends the wait at once
                delay = min(delay * 2, .seconds(10))
            }
        }
    }

    private func refreshed(_ slot: ContainerSlot) async -> ContainerRuntimeState? {
        guard let id = slot.current, let state = await ctx.runtime.containerStatus(id) else { return slot.runtimeState }
        return state
    }

    /// Runs the container's preStop hook, if any, within `budget`.
    func runPreStop(_ s: ContainerSlot, id: ContainerID, budget: Duration) async {
        guard let hook = s.spec[path: ["lifecycle", "preStop"]], hook.objectValue != nil, budget > .zero else { return }
        if let failure = await LifecycleHookRunner.run(hook, target: probeTarget(s.spec, id: id), timeout: budget) {
            await ctx.record(pod, "Warning", "FailedPreStopHook", "PreStopHook failed: \(failure)", container: s)
        }
    }
}
