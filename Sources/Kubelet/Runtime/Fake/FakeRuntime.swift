import Foundation
import KubeModel

/// A runtime that runs nothing, for scale tests (as kwok): sandboxes get an IP from the
/// node's podCIDR, containers are "running" the moment they start, consume nothing, and end
/// only when stopped. All state is in memory: a fake node has no disk state, so a restarted
/// fake kubelet starts from nothing.
///
/// A stopped container exits 0 with reason `Completed`: it behaves like a well-behaved
/// server that ends cleanly on SIGTERM. A deleted pod then shows `Terminating` and goes away
/// as with real processes, and a stop is never mistaken for a failure (which would make an
/// `OnFailure` pod restart). `terminate(_:exitCode:reason:)` lets tests end a container some
/// other way.
///
/// Containers of a pod that runs to completion exit by themselves, as kwok's pod-complete
/// stage: a Job's pods (label `batch.kubernetes.io/job-name`) at once, or any pod with the
/// annotation `caravel.dev/fake-exit-after` (a duration such as `5s`) after that long, with
/// the code in `caravel.dev/fake-exit-code` (default 0).
public actor FakeRuntime: ContainerRuntime {
    public static let exitAfterAnnotation = "caravel.dev/fake-exit-after"
    public static let exitCodeAnnotation = "caravel.dev/fake-exit-code"
    static let jobNameLabel = "batch.kubernetes.io/job-name"

    public nonisolated let name = "fake"
    /// The node's own address, for host-network pods.
    let hostIP: String
    private var allocator: FakeIPAllocator
    private var sandboxes: [String: SandboxStatus] = [:]
    /// When the containers of a pod end by themselves, by pod UID.
    private var lifetimes: [String: (after: Duration, code: Int32)] = [:]
    private var containers: [ContainerID: ContainerRecord] = [:]
    private var exitWaiters: [ContainerID: [CheckedContinuation<Void, Never>]] = [:]
    /// What pods use, as their annotations declare (`FakeUsageMeter`).
    public nonisolated let usageMeter: FakeUsageMeter
    /// Its kubelet has stopped and shut it down (nothing is held open; containers stay).
    public private(set) var isShutDown = false

    /// `podCIDR` is the node's `spec.podCIDR` when known (`setPodCIDR` once assigned later);
    /// without one, pod IPs come from 10.244.0.0/16 by a counter.
    /// An invalid `podCIDR` leaves the default range (`setPodCIDR` says why it is invalid).
    public init(podCIDR: String? = nil, hostIP: String = "127.0.0.1", usageMeter: FakeUsageMeter = FakeUsageMeter()) {
        self.hostIP = hostIP
        self.usageMeter = usageMeter
        self.allocator = FakeIPAllocator(cidr: podCIDR)
    }

    public func shutdown() async { isShutDown = true }

    /// Pod IPs come from `cidr` from now on (pods already running keep theirs). Throws
    /// `InvalidPodCIDR` (and keeps the current range) for anything but an IPv4 /1 to /30.
    public func setPodCIDR(_ cidr: String) throws {
        try allocator.setRange(cidr)
    }

    public func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus {
        if let existing = sandboxes[config.podUID] { return existing }
        let status: SandboxStatus
        if config.hostNetwork {
            status = SandboxStatus(podIP: hostIP, networkNamespacePath: nil)
        } else {
            guard let ip = allocator.allocate() else {
                throw ContainerStartError(reason: "CreatePodSandboxError", message: "no pod IPs left in the node's podCIDR")
            }
            status = SandboxStatus(podIP: ip, networkNamespacePath: nil)
        }
        sandboxes[config.podUID] = status
        let after = config.annotations[Self.exitAfterAnnotation].flatMap(GoDuration.parse)
        if after != nil || config.labels[Self.jobNameLabel] != nil {
            lifetimes[config.podUID] = (after ?? .zero, config.annotations[Self.exitCodeAnnotation].flatMap { Int32($0) } ?? 0)
        }
        return status
    }

    public func removeSandbox(podUID: String) async throws {
        for (id, _) in containers where id.podUID == podUID { stop(id) }
        lifetimes[podUID] = nil
        if let sandbox = sandboxes.removeValue(forKey: podUID), sandbox.podIP != hostIP {
            allocator.release(sandbox.podIP)
        }
    }

    public func startContainer(_ config: ContainerConfig) async throws -> ContainerID {
        guard sandboxes[config.id.podUID] != nil else {
            throw ContainerStartError(reason: "CreateContainerError", message: "pod sandbox \(config.id.podUID) does not exist")
        }
        if let existing = containers[config.id], case .running = existing.state { return config.id }
        containers[config.id] = ContainerRecord(id: config.id, state: .running(startedAt: Date()), logPath: config.logPath)
        if let (after, code) = lifetimes[config.id.podUID] {
            let id = config.id
            Task { [weak self] in
                if after > .zero { try? await Task.sleep(for: after) }
                await self?.terminate(id, exitCode: code, reason: code == 0 ? "Completed" : "Error")
            }
        }
        return config.id
    }

    public func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {
        stop(id)
    }

    /// Ends a running container with `exitCode` and `reason` (e.g. 1 and `Error`), as if its
    /// process had exited by itself.
    public func terminate(_ id: ContainerID, exitCode: Int32, reason: String, signal: Int32? = nil) {
        guard let record = containers[id], case .running(let started) = record.state else { return }
        containers[id]?.state = .exited(exitCode: exitCode, signal: signal, reason: reason, startedAt: started, finishedAt: Date())
        releaseExitWaiters(id)
    }

    public func waitForExit(_ id: ContainerID) async {
        guard case .running? = containers[id]?.state else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { exitWaiters[id, default: []].append($0) }
        } onCancel: {
            Task { await self.releaseExitWaiters(id) }
        }
    }

    private func releaseExitWaiters(_ id: ContainerID) {
        for waiter in exitWaiters.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    private func stop(_ id: ContainerID) {
        terminate(id, exitCode: 0, reason: "Completed")
    }

    public func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? {
        containers[id]?.state
    }

    public func listContainers() async -> [ContainerRecord] {
        containers.values.sorted { ($0.id.podUID, $0.id.name, $0.id.attempt) < ($1.id.podUID, $1.id.name, $1.id.attempt) }
    }

    public func removeContainer(_ id: ContainerID) async {
        guard let record = containers[id], case .exited = record.state else { return }
        containers[id] = nil
    }

    /// Every command succeeds at once with no output (exec probes and hooks pass).
    public func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult {
        ExecResult(exitCode: 0, output: "")
    }

    /// There is no process to run a command in: `kubectl exec` gets a clear error on stderr and
    /// exit code 126 (cannot execute), as a real runtime reports a command it cannot run. Probes
    /// and hooks, which go through `exec`, still pass.
    public func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession {
        FakeExecSession(message: FakeRuntimeExecUnsupported(container: id.name).description + "\n")
    }

    /// The pod IP of a sandbox, for tests.
    public func podIP(podUID: String) -> String? { sandboxes[podUID]?.podIP }
}

/// `kubectl exec` into a fake container: the reason on stderr, exit code 126.
struct FakeExecSession: ExecSession {
    let output: AsyncStream<(stream: UInt8, bytes: [UInt8])>

    init(message: String) {
        let (stream, continuation) = AsyncStream<(stream: UInt8, bytes: [UInt8])>.makeStream()
        continuation.yield((stream: ExecStreamProtocol.stderr, bytes: Array(message.utf8)))
        continuation.finish()
        output = stream
    }

    func writeStdin(_ bytes: [UInt8]) async {}
    func closeStdin() async {}
    func resize(width: Int, height: Int) async {}
    func wait() async -> Int32 { 126 }
    func terminate() async {}
}

/// Why `kubectl exec` into a fake container does nothing.
public struct FakeRuntimeExecUnsupported: Error, CustomStringConvertible {
    public let container: String
    public var description: String {
        "container \"\(container)\" runs on the fake runtime, which runs no processes: exec is not supported"
    }
}

/// A pod CIDR the fake runtime cannot hand addresses from.
public struct InvalidPodCIDR: Error, CustomStringConvertible {
    public let cidr: String
    public var description: String {
        "invalid pod CIDR \"\(cidr)\": the fake runtime needs an IPv4 CIDR from /1 to /30 (e.g. 10.244.1.0/24)"
    }
}

/// Hands out IPv4 addresses from a CIDR, skipping the network address, the first host (the
/// gateway a real bridge would take) and the broadcast address; released addresses are
/// reused. Without a CIDR, 10.244.0.0/16.
struct FakeIPAllocator: Sendable {
    private var base: UInt32 = 0
    private var size: UInt32 = 0
    private var next: UInt32 = 2
    private var free: [UInt32] = []
    private var inUse: Set<UInt32> = []

    init(cidr: String?) {
        if (try? setRange(cidr ?? "")) == nil { try? setRange("10.244.0.0/16") }
    }

    mutating func setRange(_ cidr: String) throws {
        // /0 would need 2^32 addresses (no UInt32 holds the size); /31 and /32 leave no pod address.
        guard let (base, prefix) = Self.parse(cidr), (1...30).contains(prefix) else { throw InvalidPodCIDR(cidr: cidr) }
        let size = UInt32(1) << UInt32(32 - prefix)
        guard base != self.base || size != self.size else { return }
        self.base = base & ~(size - 1)
        self.size = size
        next = 2
        free = []
        inUse = []
    }

    mutating func allocate() -> String? {
        while let offset = free.popLast() {
            if inUse.insert(offset).inserted { return Self.format(base + offset) }
        }
        while next < size - 1 {
            let offset = next
            next += 1
            if inUse.insert(offset).inserted { return Self.format(base + offset) }
        }
        return nil
    }

    mutating func release(_ ip: String) {
        guard let addr = Self.parseIP(ip), addr >= base, addr - base < size else { return }
        if inUse.remove(addr - base) != nil { free.append(addr - base) }
    }

    static func parse(_ cidr: String) -> (UInt32, Int)? {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let ip = parseIP(String(parts[0])), let prefix = Int(parts[1]), (0...32).contains(prefix) else { return nil }
        return (ip, prefix)
    }

    static func parseIP(_ s: String) -> UInt32? {
        let octets = s.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var v: UInt32 = 0
        for o in octets {
            guard let b = UInt8(o) else { return nil }
            v = v << 8 | UInt32(b)
        }
        return v
    }

    static func format(_ v: UInt32) -> String {
        "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
    }
}
