import Foundation

/// The checks behind a node's Ready condition, as kubelet makes them: the container runtime
/// answers, the pod network is set up, the kubelet's root directory takes writes, and pod
/// lifecycle relists keep coming (PLEG). Each failing check adds kubelet's wording of it.
public actor NodeHealth {
    let runtime: any ContainerRuntime
    let network: PodNetwork?
    /// Where the disk check writes; nil skips it (a simulated node).
    let rootDirectory: String?
    let lifecycleProblem: @Sendable () -> String?
    let runtimeTimeout: Duration
    /// A runtime call that has not returned yet: a hung runtime is not asked again and again.
    private var runtimeCallInFlight = false

    public init(runtime: any ContainerRuntime, network: PodNetwork?, rootDirectory: String?,
                lifecycleProblem: @escaping @Sendable () -> String?, runtimeTimeout: Duration = .seconds(10)) {
        self.runtime = runtime
        self.network = network
        self.rootDirectory = rootDirectory
        self.lifecycleProblem = lifecycleProblem
        self.runtimeTimeout = runtimeTimeout
    }

    public func evaluate() async -> NodeReadiness {
        var problems: [String] = []
        if !(await runtimeAnswers()) { problems.append("container runtime is down") }
        if let p = lifecycleProblem() { problems.append(p) }
        if let n = await network?.readinessProblem() {
            problems.append("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:\(n)")
        }
        if let rootDirectory, let d = Self.diskProblem(rootDirectory) { problems.append(d) }
        return NodeReadiness(problems: problems)
    }

    /// Whether the runtime lists its containers within `runtimeTimeout`.
    private func runtimeAnswers() async -> Bool {
        guard !runtimeCallInFlight else { return false }
        runtimeCallInFlight = true
        let (answers, continuation) = AsyncStream<Bool>.makeStream()
        let runtime = self.runtime
        // Unstructured: a hung call must not hold up the status report; it ends when it ends.
        Task { [weak self] in
            _ = await runtime.listContainers()
            continuation.yield(true)
            await self?.runtimeCallEnded()
        }
        let timer = Task { [runtimeTimeout] in
            try? await Task.sleep(for: runtimeTimeout)
            continuation.yield(false)
        }
        defer {
            timer.cancel()
            continuation.finish()
        }
        for await answered in answers { return answered }
        return false
    }

    private func runtimeCallEnded() { runtimeCallInFlight = false }

    /// A byte written, synced and removed under the root directory; nil when that works.
    static func diskProblem(_ directory: String) -> String? {
        let path = (directory as NSString).appendingPathComponent(".caravel-health")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "kubelet root directory \(directory) is not writable: \(String(cString: strerror(errno)))" }
        defer {
            close(fd)
            unlink(path)
        }
        var byte: UInt8 = 0x2E
        guard write(fd, &byte, 1) == 1, fsync(fd) == 0 else {
            return "kubelet root directory \(directory) is not writable: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
