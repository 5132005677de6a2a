import Foundation

/// A container's root file system in its bundle: an overlayfs mount of the image's layer
/// directories (lowest last in `lowerdir`) with the container's own upper and work
/// directories beside it; where the kernel refuses overlayfs (not root, or an upper file
/// system it cannot use), a copy of the layers in order with their whiteouts applied.
struct RootFilesystem: Sendable {
    /// The bundle directory: `rootfs/` is mounted or copied inside it, `upper/` and `work/` too.
    let bundle: String
    var rootfs: String { bundle + "/rootfs" }
    var markerPath: String { bundle + "/rootfs.kind" }

    enum Kind: String { case overlay, copy }

    /// Builds the root from `layers` (bottom first).
    func create(layers: [String], unpacker: LayerUnpacker) async throws -> Kind {
        let fm = FileManager.default
        for dir in [rootfs, bundle + "/upper", bundle + "/work"] { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let lower = layers.reversed().map { unpacker.store.layerPath($0) }
        if geteuid() == 0, !lower.isEmpty {
            let options = "lowerdir=\(lower.joined(separator: ":")),upperdir=\(bundle)/upper,workdir=\(bundle)/work"
            if mount("overlay", rootfs, "overlay", 0, options) == 0 {
                try Kind.overlay.rawValue.write(toFile: markerPath, atomically: true, encoding: .utf8)
                return .overlay
            }
        }
        for layer in layers { try await copy(layer: layer, unpacker: unpacker) }
        try Kind.copy.rawValue.write(toFile: markerPath, atomically: true, encoding: .utf8)
        return .copy
    }

    /// Applies one layer over the copy: its whiteouts first, then its files (`cp -a`).
    private func copy(layer: String, unpacker: LayerUnpacker) async throws {
        let fm = FileManager.default
        let (deleted, opaque) = unpacker.whiteouts(layer)
        for dir in opaque {
            let target = rootfs + "/" + dir
            for entry in (try? fm.contentsOfDirectory(atPath: target)) ?? [] { try? fm.removeItem(atPath: target + "/" + entry) }
        }
        let source = unpacker.store.layerPath(layer)
        for path in deleted {
            try? fm.removeItem(atPath: rootfs + "/" + path)
        }
        guard let cp = PodNetworkCommand.find("cp") else { throw ContainerStartError(reason: "CreateContainerError", message: "no cp") }
        let result = try await PodNetworkCommand.run(cp, ["-a", source + "/.", rootfs + "/"], timeout: .seconds(600))
        guard result.status == 0 else {
            throw ContainerStartError(reason: "CreateContainerError", message: "copying layer \(layer): \(result.stderr)")
        }
        // The 0/0 devices overlayfs reads as whiteouts are not files of the image.
        for path in deleted where geteuid() == 0 { try? fm.removeItem(atPath: rootfs + "/" + path) }
    }

    /// Unmounts an overlay root (lazily when busy); the directories go with the bundle.
    func remove() {
        if (try? String(contentsOfFile: markerPath, encoding: .utf8)) == Kind.overlay.rawValue || Self.isMountPoint(rootfs) {
            if umount2(rootfs, 0) != 0 { _ = umount2(rootfs, Int32(MNT_DETACH)) }
        }
        try? FileManager.default.removeItem(atPath: markerPath)
    }

    static func isMountPoint(_ path: String) -> Bool {
        guard let mounts = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == path }
    }
}
