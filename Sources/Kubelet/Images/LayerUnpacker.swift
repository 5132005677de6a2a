import Foundation

/// Unpacks a layer blob (tar, gzip or zstd, told by its first bytes) into its own directory,
/// `layers/sha256/<hex>`, with `tar` (gzip through tar's own, zstd through the `zstd` command).
/// Whiteouts become what overlayfs reads in a lower directory: `.wh.NAME` a 0/0 character
/// device NAME, `.wh..wh..opq` the `trusted.overlay.opaque` attribute on its directory. Both
/// are also listed in `<hex>.whiteouts` (one `D path` or `O path` a line) for the copied
/// snapshot, which applies them while copying where overlayfs is unavailable.
public struct LayerUnpacker: Sendable {
    public let store: ContentStore

    public init(store: ContentStore) {
        self.store = store
    }

    public enum Compression: String, Sendable { case none, gzip, zstd }

    public static func compression(of header: [UInt8]) -> Compression {
        if header.starts(with: [0x1f, 0x8b]) { return .gzip }
        if header.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        return .none
    }

    public func whiteoutListPath(_ digest: String) -> String { store.layerPath(digest) + ".whiteouts" }

    public func isUnpacked(_ digest: String) -> Bool {
        FileManager.default.fileExists(atPath: whiteoutListPath(digest))
    }

    /// Unpacks the stored blob `digest` once; a directory exists only complete.
    public func unpack(_ digest: String) async throws {
        if isUnpacked(digest) { return }
        let fm = FileManager.default
        let blob = store.blobPath(digest)
        guard let handle = FileHandle(forReadingAtPath: blob) else { throw ImageError.invalidContent("layer \(digest) is not stored") }
        let header = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        try? handle.close()
        let temp = store.layersDirectory + "/.unpack-" + UUID().uuidString
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: true)
        do {
            var arguments = ["-x", "-f", blob, "-C", temp, "--numeric-owner"]
            if geteuid() == 0 { arguments.append("--same-owner") } else { arguments.append("--no-same-owner") }
            switch Self.compression(of: header) {
            case .gzip: arguments.append("-z")
            case .zstd: arguments.append("--zstd")
            case .none: break
            }
            guard let tar = PodNetworkCommand.find("tar") else { throw ImageError.invalidContent("unpacking layers needs tar") }
            let result = try await PodNetworkCommand.run(tar, arguments, timeout: .seconds(600))
            guard result.status == 0 else {
                throw ImageError.invalidContent("unpacking layer \(digest): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            let whiteouts = try Self.convertWhiteouts(in: temp)
            let final = store.layerPath(digest)
            // A concurrent pull of the same layer may have won; its directory may already be
            // a container's lower layer, so it is kept and this copy dropped.
            if rename(temp, final) != 0 {
                guard fm.fileExists(atPath: final) else {
                    throw ImageError.transport("storing layer \(digest): \(String(cString: strerror(errno)))")
                }
                try? fm.removeItem(atPath: temp)
            }
            try whiteouts.joined(separator: "\n").write(toFile: whiteoutListPath(digest), atomically: true, encoding: .utf8)
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
    }

    /// Replaces the whiteout files under `root` and returns their list (`D rel` deleted,
    /// `O rel` opaque directory).
    static func convertWhiteouts(in root: String) throws -> [String] {
        let fm = FileManager.default
        var found: [String] = []
        guard let walker = fm.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard name.hasPrefix(".wh.") else { continue }
            let parent = (relative as NSString).deletingLastPathComponent
            try fm.removeItem(atPath: root + "/" + relative)
            if name == ".wh..wh..opq" {
                found.append("O " + parent)
                let directory = parent.isEmpty ? root : root + "/" + parent
                setOpaque(directory)
            } else {
                let target = parent.isEmpty ? String(name.dropFirst(4)) : parent + "/" + name.dropFirst(4)
                found.append("D " + target)
                if geteuid() == 0 { _ = mknod(root + "/" + target, S_IFCHR | 0o000, 0) }
            }
        }
        return found
    }

    /// The whiteouts recorded for a layer.
    public func whiteouts(_ digest: String) -> (deleted: [String], opaque: [String]) {
        let text = (try? String(contentsOfFile: whiteoutListPath(digest), encoding: .utf8)) ?? ""
        var deleted: [String] = [], opaque: [String] = []
        for line in text.split(separator: "\n") where line.count > 2 {
            let path = String(line.dropFirst(2))
            if line.hasPrefix("D ") { deleted.append(path) } else if line.hasPrefix("O ") { opaque.append(path) }
        }
        return (deleted, opaque)
    }
}

/// `setxattr(path, "trusted.overlay.opaque", "y")`; the Glibc module does not import the
/// xattr functions, so the symbol is looked up. Without root the attribute is refused and
/// only the whiteout list records the opaque directory.
private func setOpaque(_ path: String) {
    typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer, Int, Int32) -> Int32
    guard let symbol = dlsym(nil, "setxattr") else { return }
    let function = unsafeBitCast(symbol, to: SetXattr.self)
    _ = "y".withCString { value in function(path, "trusted.overlay.opaque", value, 1, 0) }
}
