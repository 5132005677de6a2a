#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// tmpfs mounts for memory-backed volumes (secrets, projected, emptyDir medium Memory). Only
/// root can mount; everyone else gets plain directories.
enum Tmpfs {
    static var canMount: Bool { geteuid() == 0 }

    /// Mount points (from /proc/self/mounts) equal to or below `path`, deepest first.
    static func mountPoints(under path: String) -> [String] {
        let base = resolved(path)
        guard let text = readProcFile("/proc/self/mounts") else { return [] }
        var out: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let point = unescape(String(fields[1]))
            if point == base || point.hasPrefix(base + "/") { out.append(point) }
        }
        return out.sorted { $0.count > $1.count }
    }

    /// The whole of a /proc file: read until EOF, since its reported size is 0 and with many
    /// mounts the table is far longer than one read.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func isMountPoint(_ path: String) -> Bool {
        mountPoints(under: path).contains(resolved(path))
    }

    /// Mounts a tmpfs at `path` (an existing directory) unless one is there already.
    static func mount(_ path: String, sizeBytes: Int64?, mode: UInt16) throws {
        if isMountPoint(path) { return }
        var options = "mode=" + String(mode, radix: 8)
        if let sizeBytes, sizeBytes > 0 { options += ",size=\(sizeBytes)" }
        let rc = options.withCString { Glibc.mount("tmpfs", path, "tmpfs", 0, $0) }
        if rc != 0 {
            throw VolumeIOError(message: "mount tmpfs at \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Unmounts every mount at or below `path`; a busy one is detached (lazy unmount) so the
    /// directory can still be removed. Returns false when something stayed mounted.
    @discardableResult
    static func unmountAll(under path: String) -> Bool {
        var ok = true
        for point in mountPoints(under: path) where umount2(point, 0) != 0 {
            if umount2(point, Int32(MNT_DETACH)) != 0 { ok = false }
        }
        return ok
    }

    /// /proc/self/mounts lists the resolved path; compare against the same.
    private static func resolved(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }

    /// Undoes the octal escapes (`\040` for a space) of /proc/self/mounts.
    private static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
               let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
