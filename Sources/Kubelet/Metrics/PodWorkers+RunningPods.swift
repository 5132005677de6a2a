import Foundation
import KubeModel

extension PodWorkers: RunningPodSource {
    /// Every pod whose worker has at least one running container.
    func runningPods() async -> [RunningPod] {
        var pods: [RunningPod] = []
        for worker in workers.values.map({ $0.worker }) {
            if let pod = await worker.runningPod() { pods.append(pod) }
        }
        return pods.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }
}

extension PodWorker {
    /// This pod with its running containers; nil when none runs.
    func runningPod() -> RunningPod? {
        let running: [RunningPod.Container] = (initSlots + appSlots).compactMap { slot in
            guard let id = slot.current, case .running(let startedAt)? = slot.runtimeState else { return nil }
            return RunningPod.Container(name: slot.name, id: id, startedAt: startedAt)
        }
        guard !running.isEmpty else { return nil }
        return RunningPod(namespace: pod.namespace ?? "", name: pod.name ?? "", uid: uid, annotations: pod.annotations,
                          containers: running)
    }
}
