import Foundation
import KubeClient
import KubeModel
import Logging

/// One `PodWorker` per pod bound to this node, fed by the pod informer; also answers the
/// kubelet server's questions about containers (`PodLookup`).
actor PodWorkers: PodLookup {
    let ctx: KubeletContext
    var workers: [String: (worker: PodWorker, task: Task<Void, Never>)] = [:]
    private var uidByName: [String: String] = [:]
    /// Runtime records found at start, handed to the worker of their pod (kubelet restart).
    private var adoptable: [String: [ContainerRecord]] = [:]

    init(ctx: KubeletContext, records: [ContainerRecord]) {
        self.ctx = ctx
        adoptable = Dictionary(grouping: records, by: \.id.podUID)
    }

    func apply(_ pod: JSONValue) async {
        guard let uid = pod.uid else { return }
        if let existing = workers[uid] {
            await existing.worker.update(pod)
            return
        }
        let key = "\(pod.namespace ?? "")/\(pod.name ?? "")"
        let records = adoptable.removeValue(forKey: uid) ?? []
        if !records.isEmpty {
            ctx.logger.info("adopting running containers", metadata: ["pod": .string(key), "containers": .stringConvertible(records.count)])
        }
        let worker = PodWorker(pod: pod, ctx: ctx, records: records)
        uidByName[key] = uid
        let task = Task { [weak self] in
            await worker.run()
            await self?.finished(uid: uid, key: key)
        }
        workers[uid] = (worker, task)
    }

    func remove(_ pod: JSONValue) async {
        guard let uid = pod.uid, let entry = workers[uid] else { return }
        await entry.worker.podRemoved()
    }

    private func finished(uid: String, key: String) {
        workers[uid] = nil
        if uidByName[key] == uid { uidByName[key] = nil }
    }

    /// Containers whose pods no longer exist (deleted while the kubelet was down) are
    /// killed and their sandboxes removed, once the informer has listed every pod. Pod
    /// directories with no pod left (the kubelet stopped in the middle of a termination, after
    /// the containers went but before the volumes did) lose their tmpfs mounts and files too.
    func removeOrphans() async {
        let orphans = adoptable
        adoptable = [:]
        for (uid, records) in orphans where workers[uid] == nil {
            ctx.logger.info("removing containers of a pod that no longer exists", metadata: ["uid": .string(uid)])
            for r in records { await ctx.runtime.stopContainer(r.id, gracePeriod: .seconds(2)) }
            try? await ctx.runtime.removeSandbox(podUID: uid)
            for r in records { await ctx.runtime.removeContainer(r.id) }
            await ctx.volumes.cleanup(podUID: uid)
        }
        let directories = (try? FileManager.default.contentsOfDirectory(atPath: ctx.paths.podsDirectory)) ?? []
        for uid in directories.sorted() where workers[uid] == nil && orphans[uid] == nil {
            ctx.logger.info("removing what is left of a pod that no longer exists", metadata: ["uid": .string(uid)])
            try? await ctx.runtime.removeSandbox(podUID: uid)
            await ctx.volumes.cleanup(podUID: uid)
            // Only once nothing is mounted below it (cleanup leaves a mount it could not undo).
            if Tmpfs.mountPoints(under: ctx.paths.podDirectory(uid)).isEmpty {
                try? FileManager.default.removeItem(atPath: ctx.paths.podDirectory(uid))
            }
        }
    }

    /// Stops the workers (not the containers: they keep running across a kubelet restart).
    func shutdown() async {
        let tasks = workers.values.map(\.task)
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
    }

    var count: Int { workers.count }

    // MARK: - PodLookup

    private func worker(namespace: String, pod: String) throws -> PodWorker {
        guard let uid = uidByName["\(namespace)/\(pod)"], let w = workers[uid]?.worker else {
            throw PodLookupError(code: 404, message: "pod \(namespace)/\(pod) is not running on node \(ctx.nodeName)")
        }
        return w
    }

    func logLocation(namespace: String, pod: String, container: String?, previous: Bool) async throws -> LogLocation {
        try await worker(namespace: namespace, pod: pod).logLocation(container: container, previous: previous)
    }

    func execTarget(namespace: String, pod: String, container: String?) async throws -> ContainerID {
        try await worker(namespace: namespace, pod: pod).execTarget(container: container)
    }

    func portForwardTarget(namespace: String, pod: String) async throws -> String {
        try worker(namespace: namespace, pod: pod).uid
    }
}

extension PodWorker {
    func findSlot(_ container: String?) throws -> ContainerSlot {
        let all = initSlots + appSlots
        guard let container, !container.isEmpty else {
            if appSlots.count == 1 { return appSlots[0] }
            throw PodLookupError(code: 400, message: "a container name must be specified for pod \(name), choose one of: [\(appSlots.map(\.name).joined(separator: " "))]")
        }
        guard let s = all.first(where: { $0.name == container }) else {
            throw PodLookupError(code: 400, message: "container \(container) is not valid for pod \(name)")
        }
        return s
    }

    func logLocation(container: String?, previous: Bool) throws -> LogLocation {
        let s = try findSlot(container)
        guard let current = s.current else {
            let reason = s.waiting?.reason ?? "ContainerCreating"
            throw PodLookupError(code: 400, message: "container \"\(s.name)\" in pod \"\(name)\" is waiting to start: \(reason)")
        }
        let attempt = previous ? current.attempt - 1 : current.attempt
        guard attempt >= 0 else {
            throw PodLookupError(code: 400, message: "previous terminated container \"\(s.name)\" in pod \"\(name)\" not found")
        }
        let id = ContainerID(podUID: uid, name: s.name, attempt: attempt)
        return LogLocation(path: ctx.paths.containerLogPath(namespace: namespace, pod: name, uid: uid, container: s.name, attempt: attempt),
                           containerID: id, running: !previous && s.isRunning)
    }

    func execTarget(container: String?) throws -> ContainerID {
        let s = try findSlot(container)
        guard let id = s.current, s.isRunning else {
            throw PodLookupError(code: 400, message: "unable to upgrade connection: container not found (\"\(s.name)\")")
        }
        return id
    }
}
