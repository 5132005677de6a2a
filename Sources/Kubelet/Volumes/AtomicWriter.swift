#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One file of a projected volume: its bytes and permission bits.
struct VolumeFile: Sendable, Equatable {
    var data: [UInt8]
    var mode: UInt16
}

/// Writes a volume's files so a reader never sees half an update, like Kubernetes' AtomicWriter:
///
///     DIR/..2025_01_02_15_04_05.123456789/<files>   the current content
///     DIR/..data -> ..2025_01_02_15_04_05.123456789 switched with rename(2)
///     DIR/<name> -> ..data/<name>                    what the container sees
///
/// Names starting with `..` are reserved for this bookkeeping.
struct AtomicWriter {
    let directory: String
    private var dataLink: String { directory + "/..data" }

    init(directory: String) { self.directory = directory }

    /// Checks an item path: relative, without `..` elements, not starting with `..`. Returns
    /// it with empty and `.` elements removed.
    static func normalize(_ path: String) -> String? {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasPrefix(".."), path.utf8.count <= 4096 else { return nil }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !parts.isEmpty, !parts.contains("..") else { return nil }
        return parts.joined(separator: "/")
    }

    /// Writes `payload` (normalized relative path → file) when it differs from the current
    /// content; returns whether it wrote.
    @discardableResult
    func write(_ payload: [String: VolumeFile]) throws -> Bool {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let old = currentTarget()
        if let old, read(directory + "/" + old) == payload {
            removeStale(keeping: old)
            return false
        }
        let target = try makeTimestampDirectory()
        do {
            for (path, file) in payload {
                let full = directory + "/" + target + "/" + path
                let parent = (full as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
                try writeFile(full, file)
            }
            // Switch: a fresh symlink renamed over ..data (rename is atomic, symlink creation is not).
            let tmp = directory + "/..data_tmp"
            unlink(tmp)
            try check(symlink(target, tmp), "symlink \(tmp)")
            try check(rename(tmp, dataLink), "rename \(tmp)")
        } catch {
            try? FileManager.default.removeItem(atPath: directory + "/" + target)
            throw error
        }
        // User-visible names, after the switch so they never point into nothing new.
        let newTop = Set(payload.keys.map(Self.topLevel))
        for name in newTop {
            let path = directory + "/" + name
            let wanted = "..data/" + name
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == wanted { continue }
            try? FileManager.default.removeItem(atPath: path)
            try check(symlink(wanted, path), "symlink \(path)")
        }
        let oldTop = old.map { (try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + $0)) ?? [] } ?? []
        for name in oldTop where !newTop.contains(name) {
            let path = directory + "/" + name
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == "..data/" + name { unlink(path) }
        }
        removeStale(keeping: target)
        return true
    }

    /// The timestamped directory `..data` points at, if any.
    func currentTarget() -> String? {
        guard let t = try? FileManager.default.destinationOfSymbolicLink(atPath: dataLink),
              t.hasPrefix(".."), !t.contains("/") else { return nil }
        return t
    }

    /// The files under `dir` (relative path → content and mode); nil when unreadable.
    func read(_ dir: String) -> [String: VolumeFile]? {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return nil }
        var out: [String: VolumeFile] = [:]
        while let rel = e.nextObject() as? String {
            let full = dir + "/" + rel
            var st = stat()
            guard lstat(full, &st) == 0 else { return nil }
            guard st.st_mode & S_IFMT == S_IFREG else { continue }
            guard let data = FileManager.default.contents(atPath: full) else { return nil }
            out[rel] = VolumeFile(data: Array(data), mode: UInt16(st.st_mode & 0o7777))
        }
        return out
    }

    /// Removes timestamped directories other than the current one (left by a crash or the
    /// previous update).
    private func removeStale(keeping current: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix("..") && name != current && name != "..data" && name != "..data_tmp" {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    static func topLevel(_ path: String) -> String {
        path.split(separator: "/", maxSplits: 1).first.map(String.init) ?? path
    }

    private func makeTimestampDirectory() throws -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        let stamp = String(format: "..%04d_%02d_%02d_%02d_%02d_%02d.", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                           Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
        for _ in 0..<100 {
            let name = stamp + String(UInt32.random(in: 0..<1_000_000_000))
            if mkdir(directory + "/" + name, 0o755) == 0 {
                chmod(directory + "/" + name, 0o755)
                return name
            }
            guard errno == EEXIST else { break }
        }
        throw VolumeIOError(message: "cannot create a timestamped directory in \(directory): \(String(cString: strerror(errno)))")
    }

    private func writeFile(_ path: String, _ file: VolumeFile) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try check(fd >= 0 ? 0 : -1, "open \(path)")
        defer { close(fd) }
        var offset = 0
        while offset < file.data.count {
            let n = file.data[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            try check(n > 0 ? 0 : -1, "write \(path)")
            offset += n
        }
        // fchmod, not the open mode: the umask must not narrow what the pod asked for.
        try check(fchmod(fd, mode_t(file.mode)), "chmod \(path)")
    }

    private func check(_ rc: Int32, _ what: String) throws {
        if rc != 0 { throw VolumeIOError(message: "\(what): \(String(cString: strerror(errno)))") }
    }
}

struct VolumeIOError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
