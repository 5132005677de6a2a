import Foundation
import KubeModel
import Logging

/// Runs containers from OCI images with runc (or crun): each attempt gets a root file system
/// from the image's layers and a bundle (`config.json`) in its container directory
/// (`ROOT/pods/<uid>/containers/<name>/<attempt>/bundle`), and `runc run` runs in the
/// foreground under the same `caravel-shim` as the process runtime's containers, so logs, exit
/// records, adoption after a kubelet restart, console attach and exit watching are shared.
/// The sandbox (network namespace, pod cgroup) is the process runtime's; runc joins the
/// namespace through `linux.namespaces` and creates the container cgroup where the process
/// runtime would (`caravel/pod<uid>/<name>_<attempt>`), so OOM verdicts and metrics read it.
public final class OCIRuntime: ContainerRuntime, ImageService {
    public let name = "oci"
    let processes: ProcessRuntime
    public let images: ImageStore
    let runc: RuncCommand
    let imageGC: ImageGarbageCollector
    let logger: Logger

    public init(paths: KubeletPaths, shimPath: String, network: (any SandboxNetwork)?, runtime: RuncCommand,
                registries: RegistryHosts, imageGC: ImageGarbageCollector = .init(), logger: Logger) {
        processes = ProcessRuntime(paths: paths, shimPath: shimPath, network: network, containersInChildCgroups: true, logger: logger)
        images = ImageStore(root: paths.root + "/images", hosts: registries)
        runc = runtime
        self.imageGC = imageGC
        self.logger = logger
    }

    /// The registry clients are closed; an HTTP client dropped while open is a leak (and a
    /// crash in a debug build).
    public func shutdown() async { await images.shutdown() }

    func bundleDirectory(_ id: ContainerID) -> String { processes.paths.containerDirectory(id) + "/bundle" }

    // MARK: Sandbox

    public func startSandbox(_ config: PodSandboxConfig) async throws -> SandboxStatus {
        try await processes.startSandbox(config)
    }

    public func removeSandbox(podUID: String) async throws {
        for id in processes.containerIDs(podUID: podUID) {
            await stopContainer(id, gracePeriod: .zero)
            await teardown(id)
        }
        try await processes.removeSandbox(podUID: podUID)
    }

    // MARK: Containers

    public func startContainer(_ config: ContainerConfig) async throws -> ContainerID {
        let id = config.id
        processes.starting.withLock { _ = $0.insert(id) }
        defer { processes.starting.withLock { _ = $0.remove(id) } }
        switch processes.priorStart(id) {
        case .ran: return id
        case .failed:
            await teardown(id)
            try? FileManager.default.removeItem(atPath: processes.paths.containerDirectory(id))
        case .none: break
        }
        let image = try await presentImage(config.image)
        let seccomp: JSONValue?
        do {
            seccomp = try SeccompProfile.spec(for: config.security, capabilities: OCIBundle.capabilities(config.security),
                                              directory: processes.paths.seccompDirectory)
        } catch {
            throw ContainerStartError(reason: "CreateContainerError", message: "seccomp: \(error)")
        }
        let bundle = bundleDirectory(id)
        let root = RootFilesystem(bundle: bundle)
        do {
            _ = try await root.create(layers: image.layers, unpacker: images.unpacker)
        } catch {
            root.remove()
            throw error as? ContainerStartError ?? ContainerStartError(reason: "CreateContainerError", message: "root file system: \(error)")
        }
        do {
            let user = try ContainerUser.resolve(security: config.security, imageUser: image.config.User, rootfs: root.rootfs)
            let sandbox = ShimRecord.decode(ProcessSandboxRecord.self, at: processes.sandboxRecordPath(id.podUID))
            let limitsInParent = containerCgroup(config)
            let cgroupsPath = processes.cgroups.enabled
                ? "/\(processes.cgroups.parent)/pod\(id.podUID)/\(Cgroups.containerName(id))"
                    + (limitsInParent ? "/" + OCIBundle.runtimeCgroupName : "") : nil
            let spec = OCIBundle(config: config, image: image.config, user: user, networkNamespace: sandbox?.networkNamespace,
                                 cgroupsPath: cgroupsPath, seccomp: seccomp, limitsInParent: limitsInParent).spec
            try Data(JSONWriter.bytes(spec)).write(to: URL(fileURLWithPath: bundle + "/config.json"))
        } catch {
            root.remove()
            throw ContainerStartError(reason: "CreateContainerConfigError", message: "\(error)")
        }
        let argv = runc.arguments(["run", "--bundle", bundle, RuncCommand.containerName(id)])
        do {
            try await processes.launch(config, argv: argv, env: ["PATH=\(ImageResolver.defaultPath)"], isolated: false)
        } catch {
            await teardown(id)
            throw error
        }
        let record = processes.record(id)
        let name = RuncCommand.containerName(id)
        await RuncCommand.waitUntilStarted(status: { await runc.status(name) }, exited: { record.exit() != nil },
                                           attempts: 500, pause: .milliseconds(20))
        return id
    }

    /// The container's cgroup, made by the kubelet with the limits, as the process runtime's:
    /// runc runs the container in a child of it. `runc run` removes its own cgroup when it
    /// returns, before the exit is read; the OOM kill counter of a cgroup it does not own is
    /// still there for the verdict. False (runc then owns the cgroup and the limits) when it
    /// cannot be made.
    func containerCgroup(_ config: ContainerConfig) -> Bool {
        guard processes.cgroups.enabled else { return false }
        do {
            try processes.cgroups.create(podUID: config.id.podUID, container: config.id, limits: config.limits)
            return true
        } catch {
            logger.warning("container \(config.id): no cgroup of the kubelet's, an OOM kill shows as Error: \(error)")
            return false
        }
    }

    /// The stored image for `image`, which the worker's pull made present.
    func presentImage(_ image: String) async throws -> StoredImage {
        let ref: ImageReference
        do { ref = try ImageReference(parsing: image) } catch {
            throw ContainerStartError(reason: "InvalidImageName", message: "Failed to apply default image tag \"\(image)\": \(error)")
        }
        guard let stored = await images.image(ref) else {
            throw ContainerStartError(reason: "ErrImagePull", message: "image \"\(ref)\" is not present on the node")
        }
        return stored
    }

    /// SIGTERM to the container through runc, SIGKILL to all its processes after the grace
    /// period; then the shim records the exit once `runc run` returns.
    public func stopContainer(_ id: ContainerID, gracePeriod: Duration) async {
        let record = processes.record(id)
        guard let config = record.config() else { return }
        let name = RuncCommand.containerName(id)
        let clock = ContinuousClock()
        var waited = 0
        while record.pid() == nil && record.exit() == nil && processes.shimAlive(record) && waited < 500 {
            try? await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        if let pid = record.pid(), ProcFS.isAlive(pid, startTime: config.pidStartTime) {
            if gracePeriod > .zero {
                _ = await runc.run(["kill", name, "TERM"])
                let deadline = clock.now + gracePeriod
                while ProcFS.isAlive(pid, startTime: config.pidStartTime) && clock.now < deadline {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            if ProcFS.isAlive(pid, startTime: config.pidStartTime) {
                _ = await runc.run(["kill", "--all", name, "KILL"])
            }
        }
        // Waits for `runc run` to return and the shim to write the exit record.
        await processes.stopContainer(id, gracePeriod: .seconds(10))
    }

    /// runc's state and the root file system of an attempt: gone after this.
    func teardown(_ id: ContainerID) async {
        _ = await runc.run(["delete", "--force", RuncCommand.containerName(id)])
        RootFilesystem(bundle: bundleDirectory(id)).remove()
    }

    public func containerStatus(_ id: ContainerID) async -> ContainerRuntimeState? { await processes.containerStatus(id) }

    public func listContainers() async -> [ContainerRecord] { await processes.listContainers() }

    public func waitForExit(_ id: ContainerID) async { await processes.waitForExit(id) }

    public func removeContainer(_ id: ContainerID) async {
        guard processes.record(id).config() != nil else { return }
        await stopContainer(id, gracePeriod: .zero)
        await teardown(id)
        await processes.removeContainer(id)
    }

    public func connectToPodPort(podUID: String, port: Int) async throws -> Int32 {
        try await processes.connectToPodPort(podUID: podUID, port: port)
    }

    public func attach(_ id: ContainerID) async throws -> any ExecSession { try await processes.attach(id) }
}
