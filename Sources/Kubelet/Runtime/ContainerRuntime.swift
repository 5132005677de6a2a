import Foundation

/// The seam between the kubelet's pod workers and whatever runs containers: real processes
/// (`ProcessRuntime`), nothing at all (`FakeRuntime`), OCI images under runc (`OCIRuntime`). Shaped after the
/// CRI: a pod sandbox (network, pod cgroup) holding containers identified by pod UID, name and
/// attempt. Implementations keep their own records on disk so a restarted kubelet finds what
/// is still running (`listContainers`) and neither orphans nor duplicates it.
public protocol ContainerRuntime: Sendable {
    /// `process`, `oci` or `fake`; shown as the node's container runtime version.
    var name: String { get }

    /// Creates (or finds, after a kubelet restart) the pod's sandbox: network namespace and IP,
    /// pod-level cgroup. Idempotent.
    func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus

    /// Stops every container of the pod still running (SIGKILL) and removes the sandbox:
    /// network namespace, IP, cgroups. Idempotent.
    func removeSandbox(podUID: String) async throws

    /// Starts one container and returns once its process runs. Throws `ContainerStartError`
    /// when the container cannot be created (its `reason` becomes the waiting reason).
    func startContainer(_ config: ContainerConfig) async throws -> ContainerID

    /// SIGTERM to the container's process group, SIGKILL after `gracePeriod`; returns once the
    /// processes are gone. No-op for a container that already exited.
    func stopContainer(_ id: ContainerID, gracePeriod: Duration) async

    /// The container's state now; nil when the runtime has no record of it.
    func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState?

    /// Every container the runtime knows of (running or exited, not yet removed).
    func listContainers() async -> [ContainerRecord]

    /// Forgets an exited container (its record; its log file stays for `--previous`).
    func removeContainer(_ id: ContainerID) async

    /// Runs `command` inside the container's environment (env, working dir, namespaces) and
    /// collects its output; used by exec probes and hooks. A timeout kills it and throws
    /// `ExecTimeout`.
    func exec(_ id: ContainerID, command: [String], timeout: Duration) async throws -> ExecResult

    /// Starts `command` inside the container with pipes attached, for `kubectl exec`.
    func execStreaming(_ id: ContainerID, command: [String], tty: Bool) async throws -> any ExecSession

    /// Returns soon after the container exits, or when the calling task is cancelled, so
    /// that the pod worker acts on an exit at once rather than at its next periodic look.
    func waitForExit(_ id: ContainerID) async

    /// A TCP connection to `port` on the pod's loopback, from inside its network namespace, for
    /// `kubectl port-forward`: the connected socket's descriptor, owned by the caller. Throws
    /// `PodPortDialError` (its message is shown to the client).
    func connectToPodPort(podUID: String, port: Int) async throws -> Int32

    /// The console of a running container started with `stdin` or `tty`, for `kubectl attach`:
    /// its output from now on, input to its stdin, window sizes to its terminal. Ending the
    /// session (`terminate`) detaches; the container goes on.
    func attach(_ id: ContainerID) async throws -> any ExecSession
    /// Closes what the runtime holds open (a registry's HTTP clients) once its kubelet has
    /// stopped; containers keep running, as across any kubelet restart.
    func shutdown() async
}

extension ContainerRuntime {
    /// Looks every second: for runtimes with no way to be told.
    public func waitForExit(_ id: ContainerID) async {
        while !Task.isCancelled {
            if case .running? = await containerStatus(id) {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            return
        }
    }

    /// Runtimes without consoles attach nothing.
    public func attach(_ id: ContainerID) async throws -> any ExecSession {
        throw ContainerStartError(reason: "AttachError", message: "the \(name) runtime cannot attach to containers")
    }

    /// Runtimes that hold nothing open have nothing to close.
    public func shutdown() async {}

    /// Runtimes without pod networks forward no ports.
    public func connectToPodPort(podUID: String, port: Int) async throws -> Int32 {
        throw PodPortDialError(message: "the \(name) runtime cannot forward ports")
    }
}

/// What identifies a container across kubelet restarts.
public struct ContainerID: Sendable, Hashable, CustomStringConvertible {
    public var podUID: String
    public var name: String
    /// 0 for the first run, then one more for each restart (the pod's restartCount).
    public var attempt: Int

    public init(podUID: String, name: String, attempt: Int) {
        self.podUID = podUID
        self.name = name
        self.attempt = attempt
    }

    /// As shown in status.containerStatuses[].containerID.
    public var description: String { "caravel://\(podUID)/\(name)/\(attempt)" }
}

public struct PodSandboxConfig: Sendable {
    public var podUID: String
    public var namespace: String
    public var name: String
    /// `spec.hostNetwork`: share the node's network (no namespace, the node's IP).
    public var hostNetwork: Bool
    /// Pod-level limits (sum of container limits); nil fields are unlimited.
    public var resources: ResourceLimits
    /// The pod's labels and annotations, as CRI passes them to a runtime.
    public var labels: [String: String]
    public var annotations: [String: String]

    public init(podUID: String, namespace: String, name: String, hostNetwork: Bool, resources: ResourceLimits = .init(),
                labels: [String: String] = [:], annotations: [String: String] = [:]) {
        self.podUID = podUID
        self.namespace = namespace
        self.name = name
        self.hostNetwork = hostNetwork
        self.resources = resources
        self.labels = labels
        self.annotations = annotations
    }
}

public struct SandboxStatus: Sendable, Equatable {
    /// The pod's IP (the node's own address with host networking or without root).
    public var podIP: String
    /// Path of the network namespace (`/var/run/netns/...`), nil when sharing the host's.
    public var networkNamespacePath: String?

    public init(podIP: String, networkNamespacePath: String?) {
        self.podIP = podIP
        self.networkNamespacePath = networkNamespacePath
    }
}

/// Limits from `resources.limits` (and the pids limit the kubelet applies to every pod).
public struct ResourceLimits: Sendable, Equatable {
    public var memoryBytes: Int64?
    /// CPU in millicores, enforced as a CFS quota per 100 ms period.
    public var cpuMillis: Int64?
    public var pids: Int64?

    public init(memoryBytes: Int64? = nil, cpuMillis: Int64? = nil, pids: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.cpuMillis = cpuMillis
        self.pids = pids
    }
}

/// A volume the kubelet prepared on the node, bound into the container at `containerPath`.
public struct Mount: Sendable, Equatable {
    public var hostPath: String
    public var containerPath: String
    public var readOnly: Bool

    public init(hostPath: String, containerPath: String, readOnly: Bool) {
        self.hostPath = hostPath
        self.containerPath = containerPath
        self.readOnly = readOnly
    }
}

/// A container resolved by the kubelet and ready to run: env values looked up, volumes
/// prepared, the log path chosen.
public struct ContainerConfig: Sendable {
    public var id: ContainerID
    public var namespace: String
    public var podName: String
    public var image: String
    /// `command` (entrypoint) and `args` as in the pod spec; the runtime decides what an empty
    /// command means (for the process runtime: the program the image names).
    public var command: [String]
    public var args: [String]
    /// In order; later entries win, as in Kubernetes.
    public var env: [(name: String, value: String)]
    public var workingDir: String?
    public var mounts: [Mount]
    public var limits: ResourceLimits
    /// Where stdout and stderr go (CRI log format: `<RFC3339Nano> <stream> <P|F> <text>`).
    public var logPath: String
    public var stdin: Bool
    public var tty: Bool
    /// Stdin ends when the first attached client detaches (`stdinOnce`).
    public var stdinOnce = false
    /// The container's security context (runtimes that isolate containers apply it).
    public var security = ContainerSecurity()
    /// The pod's hostname (`spec.hostname`, else its name), for runtimes with a UTS namespace.
    public var hostname: String?

    public init(id: ContainerID, namespace: String, podName: String, image: String, command: [String], args: [String],
                env: [(name: String, value: String)], workingDir: String?, mounts: [Mount], limits: ResourceLimits,
                logPath: String, stdin: Bool = false, tty: Bool = false) {
        self.id = id
        self.namespace = namespace
        self.podName = podName
        self.image = image
        self.command = command
        self.args = args
        self.env = env
        self.workingDir = workingDir
        self.mounts = mounts
        self.limits = limits
        self.logPath = logPath
        self.stdin = stdin
        self.tty = tty
    }
}

/// Why a container could not be created; `reason` is the container's waiting reason.
public struct ContainerStartError: Error, Sendable, CustomStringConvertible {
    /// `ErrImagePull` (the image names no program), `CreateContainerError`,
    /// `CreateContainerConfigError`, `RunContainerError`.
    public var reason: String
    public var message: String

    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }
}

public enum ContainerRuntimeState: Sendable, Equatable {
    case running(startedAt: Date)
    /// `reason`: `Completed` (exit 0), `Error`, `OOMKilled`.
    case exited(exitCode: Int32, signal: Int32?, reason: String, startedAt: Date, finishedAt: Date)
}

public struct ContainerRecord: Sendable, Equatable {
    public var id: ContainerID
    public var state: ContainerRuntimeState
    public var logPath: String

    public init(id: ContainerID, state: ContainerRuntimeState, logPath: String) {
        self.id = id
        self.state = state
        self.logPath = logPath
    }
}

public struct ExecResult: Sendable, Equatable {
    public var exitCode: Int32
    public var output: String

    public init(exitCode: Int32, output: String) {
        self.exitCode = exitCode
        self.output = output
    }
}

public struct ExecTimeout: Error, Sendable {
    public init() {}
}

/// A running `kubectl exec` process: its streams and its end.
public protocol ExecSession: Sendable {
    /// Bytes the process wrote, tagged 1 (stdout) or 2 (stderr); finishes when both close.
    var output: AsyncStream<(stream: UInt8, bytes: [UInt8])> { get }
    func writeStdin(_ bytes: [UInt8]) async
    func closeStdin() async
    func resize(width: Int, height: Int) async
    /// Waits for the exit code.
    func wait() async -> Int32
    /// Kills the process group (client went away).
    func terminate() async
}
