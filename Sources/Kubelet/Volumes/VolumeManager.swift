#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeModel
import Logging

/// Prepares a pod's volumes under `ROOT/pods/<uid>/volumes/<name>` (hostPath and claims
/// excepted: their own path), keeps secret/configMap/downwardAPI/projected contents current, and removes it all when
/// the pod is gone. As root, secret and projected volumes (and emptyDir medium Memory) live on
/// their own tmpfs so secrets never reach the disk.
public actor VolumeManager {
    let paths: KubeletPaths
    let source: any ObjectSource
    let logger: Logger
    /// ServiceAccount tokens of projected volumes, renewed when 80% of their life has passed.
    let tokens = ServiceAccountTokenCache()

    /// Volume kinds whose files come from API objects (written by `AtomicWriter`).
    static let apiDataKinds = ["secret", "configMap", "downwardAPI", "projected"]
    /// Of those, the ones Kubernetes keeps in memory.
    static let memoryBackedKinds: Set<String> = ["secret", "projected"]

    public init(paths: KubeletPaths, source: any ObjectSource, logger: Logger) {
        self.paths = paths
        self.source = source
        self.logger = logger
    }

    /// Prepares every volume of the pod (idempotent; changed contents are rewritten) and
    /// returns volume name → host path. Throws `ContainerStartError` (reason
    /// `CreateContainerConfigError`) for a missing non-optional Secret/ConfigMap/key, a failed
    /// hostPath type check or an unsupported volume type.
    public func prepare(_ context: PodContext) async throws -> [String: String] {
        guard let uid = context.pod.uid, !uid.isEmpty else {
            throw DownwardValues.configError("pod has no metadata.uid")
        }
        var payloads = VolumePayload(source: source, context: context)
        payloads.tokens = tokens
        var result: [String: String] = [:]
        for volume in context.pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue, !name.isEmpty else { continue }
            let dir = paths.volumeDirectory(uid, volume: name)
            if let hostPath = volume["hostPath"] {
                let path = hostPath["path"]?.stringValue ?? ""
                guard path.hasPrefix("/") else {
                    throw DownwardValues.configError("hostPath volume \(name): path \"\(path)\" is not absolute")
                }
                try HostPath.prepare(path: path, type: hostPath["type"]?.stringValue ?? "")
                result[name] = path
            } else if let claim = volume["persistentVolumeClaim"] {
                let resolved = try await ClaimVolume.resolve(claim, namespace: context.pod.namespace ?? "", objects: source)
                try HostPath.prepare(path: resolved.path, type: resolved.type)
                let local = paths.localVolumesDirectory
                if resolved.path.hasPrefix(local + "/") {
                    LocalVolumeJanitor.remember(String(resolved.path.dropFirst(local.count + 1)), in: local, deletes: resolved.deletes)
                }
                result[name] = resolved.path
            } else if let emptyDir = volume["emptyDir"] {
                try io(name) {
                    try makeDirectory(dir, mode: 0o777)
                    if emptyDir["medium"]?.stringValue == "Memory", Tmpfs.canMount {
                        let size = DownwardValues.quantity(emptyDir["sizeLimit"])?.value
                            ?? context.nodeAllocatable["memory"].flatMap(Quantity.parse)?.value
                        try Tmpfs.mount(dir, sizeBytes: size, mode: 0o777)
                    }
                }
                result[name] = dir
            } else if let kind = Self.apiDataKinds.first(where: { volume[$0] != nil }), let spec = volume[kind] {
                let files = try await payloads.build(kind: kind, spec: spec)
                try io(name) {
                    try makeDirectory(dir, mode: 0o755)
                    if Self.memoryBackedKinds.contains(kind), Tmpfs.canMount {
                        try Tmpfs.mount(dir, sizeBytes: nil, mode: 0o755)
                    }
                    try AtomicWriter(directory: dir).write(files)
                }
                result[name] = dir
            } else {
                let kind = volume.objectValue?.keys.filter { $0 != "name" }.sorted().first ?? "(none)"
                throw DownwardValues.configError("volume type \(kind) is not supported by caravel")
            }
        }
        logSkipped(payloads.skipped, uid: uid)
        return result
    }

    /// What the fake runtime does instead of `prepare` for claims: nothing touches the disk,
    /// but a pod still waits until each claim is bound to a volume it could mount.
    public func resolveClaims(_ context: PodContext) async throws {
        for volume in context.pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let claim = volume["persistentVolumeClaim"] else { continue }
            _ = try await ClaimVolume.resolve(claim, namespace: context.pod.namespace ?? "", objects: source)
        }
    }

    /// Rewrites the secret/configMap/downwardAPI/projected volumes whose content changed.
    /// A source that fails (object deleted, API server away) leaves the files as they were.
    public func refresh(_ context: PodContext) async {
        guard let uid = context.pod.uid, !uid.isEmpty else { return }
        var payloads = VolumePayload(source: source, context: context)
        payloads.tokens = tokens
        for volume in context.pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue, !name.isEmpty,
                  let kind = Self.apiDataKinds.first(where: { volume[$0] != nil }), let spec = volume[kind] else { continue }
            let dir = paths.volumeDirectory(uid, volume: name)
            // Only volumes prepare set up: never resurrect a cleaned-up pod's directory.
            guard FileManager.default.fileExists(atPath: dir) else { continue }
            do {
                let files = try await payloads.build(kind: kind, spec: spec)
                if try AtomicWriter(directory: dir).write(files) {
                    logger.debug("volume updated", metadata: ["pod": "\(uid)", "volume": "\(name)"])
                }
            } catch {
                logger.warning("volume refresh failed; keeping the previous content",
                               metadata: ["pod": "\(uid)", "volume": "\(name)", "error": "\(error)"])
            }
        }
    }

    /// Unmounts the pod's tmpfs volumes and removes its volume directory. hostPath volumes
    /// live elsewhere and are untouched.
    public func cleanup(podUID: String) async {
        guard !podUID.isEmpty, !podUID.contains("/") else { return }
        tokens.forget(podUID: podUID)
        let dir = paths.volumesDirectory(podUID)
        guard FileManager.default.fileExists(atPath: dir) else { return }
        if !Tmpfs.unmountAll(under: dir) {
            // Removing files under a mount that stayed would delete live data; leave it.
            logger.error("could not unmount the pod's volumes; leaving them", metadata: ["pod": "\(podUID)"])
            return
        }
        do {
            try FileManager.default.removeItem(atPath: dir)
        } catch {
            logger.warning("could not remove volume directory", metadata: ["pod": "\(podUID)", "error": "\(error)"])
        }
    }

    private func logSkipped(_ skipped: [String], uid: String) {
        for kind in Set(skipped).sorted() {
            logger.notice("projected volume source \(kind) is not supported by caravel; skipped",
                          metadata: ["pod": "\(uid)"])
        }
    }

    /// File-system failures become config errors naming the volume.
    private func io(_ volume: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as ContainerStartError {
            throw e
        } catch {
            throw DownwardValues.configError("failed to set up volume \(volume): \(error)")
        }
    }

    private func makeDirectory(_ dir: String, mode: mode_t) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // chmod, not the mkdir mode: the umask would narrow emptyDir's 0777.
        chmod(dir, mode)
    }
}
