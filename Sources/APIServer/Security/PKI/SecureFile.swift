import Foundation

/// Files that may hold secrets (keys, tokens, kubeconfigs, the encryption key file).
enum SecureFile {

    /// Writes `text` to `path` atomically and durably: created with its final mode before any
    /// byte is written (a key is never readable by others), fsynced before the rename, and the
    /// directory fsynced after it. A power cut leaves either the old file or the new one on
    /// disk, and once this returns the new one survives: callers may go on to act on it (e.g.
    /// re-encrypt stored Secrets under a new key) without risking data under a key that is gone.
    /// - Parameter sync: fsync, replaceable to observe or fail it in tests.
    static func writeAtomically(_ path: String, _ text: String, mode: mode_t,
                                sync: (Int32) -> Int32 = { fsync($0) }) throws {
        let tmp = path + ".tmp"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw PKIError("cannot create \(tmp): errno \(errno)") }
        func fail(_ what: String) -> PKIError {
            let err = errno
            close(fd)
            unlink(tmp)
            return PKIError("cannot \(what) \(tmp): errno \(err)")
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw fail("write") }
            written += n
        }
        fchmod(fd, mode)  // the umask may have narrowed it; this only sets what we asked for
        guard sync(fd) == 0 else { throw fail("fsync") }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let err = errno
            unlink(tmp)
            throw PKIError("cannot rename \(tmp) to \(path): errno \(err)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let dirFD = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw PKIError("cannot open \(dir) to sync it: errno \(errno)") }
        defer { close(dirFD) }
        guard sync(dirFD) == 0 else { throw PKIError("cannot fsync \(dir): errno \(errno)") }
    }
}
