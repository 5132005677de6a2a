import Foundation
import KubeModel

extension VolumeManager {
    /// The container's mounts from its `volumeMounts`, given `prepare`'s result. `subPath`
    /// (or `subPathExpr`, expanded with `env`, the container's environment) selects a path
    /// inside the volume and is created as a directory when missing. Secret, configMap,
    /// downwardAPI and projected volumes (recognised by their `..data` link) are always
    /// read-only, as in Kubernetes, and so are `readOnlyVolumes` (claims mounted read-only). Throws `ContainerStartError` (CreateContainerConfigError)
    /// for an undeclared volume or a subPath leaving its volume.
    public static func mounts(for container: JSONValue, volumes: [String: String],
                              env: [String: String] = [:], readOnlyVolumes: Set<String> = []) throws -> [Mount] {
        let containerName = container["name"]?.stringValue ?? ""
        var out: [Mount] = []
        for vm in container["volumeMounts"]?.arrayValue ?? [] {
            let name = vm["name"]?.stringValue ?? ""
            guard let volumePath = volumes[name] else {
                throw DownwardValues.configError("cannot find volume \"\(name)\" to mount into container \"\(containerName)\"")
            }
            guard let mountPath = vm["mountPath"]?.stringValue, !mountPath.isEmpty else {
                throw DownwardValues.configError("volume mount \(name) in container \(containerName) has no mountPath")
            }
            var subPath = vm["subPath"]?.stringValue ?? ""
            if subPath.isEmpty, let expr = vm["subPathExpr"]?.stringValue {
                subPath = EnvResolver.expand(expr, env: env)
            }
            let apiData = isAtomicVolume(volumePath)
            var hostPath = volumePath
            if !subPath.isEmpty {
                hostPath = try resolveSubPath(subPath, in: volumePath, create: !apiData, mount: name)
            }
            let readOnly = vm["readOnly"]?.boolValue == true || apiData || readOnlyVolumes.contains(name)
            out.append(Mount(hostPath: hostPath, containerPath: mountPath, readOnly: readOnly))
        }
        return out
    }

    /// A volume written by `AtomicWriter` has a `..data` symlink at its root.
    static func isAtomicVolume(_ path: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path + "/..data")) != nil
    }

    /// `volume/subPath`, refusing absolute paths, `..` elements and symlinks out of the volume.
    private static func resolveSubPath(_ subPath: String, in volume: String, create: Bool, mount: String) throws -> String {
        let parts = subPath.split(separator: "/", omittingEmptySubsequences: true)
        guard !subPath.hasPrefix("/"), !parts.contains("..") else {
            throw DownwardValues.configError("invalid subPath \"\(subPath)\" for volume \(mount): must be relative and must not contain '..'")
        }
        let full = volume + "/" + parts.joined(separator: "/")
        if create, !FileManager.default.fileExists(atPath: full) {
            do {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            } catch {
                throw DownwardValues.configError("failed to create subPath \"\(subPath)\" in volume \(mount): \(error)")
            }
        }
        // Symlinks are resolved by the bind mount: the target must stay inside the volume.
        let root = URL(fileURLWithPath: volume).resolvingSymlinksInPath().path
        let target = URL(fileURLWithPath: full).resolvingSymlinksInPath().path
        if FileManager.default.fileExists(atPath: full), target != root, !target.hasPrefix(root + "/") {
            throw DownwardValues.configError("subPath \"\(subPath)\" of volume \(mount) points outside the volume")
        }
        return full
    }
}
