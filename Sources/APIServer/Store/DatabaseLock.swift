import Foundation

/// An exclusive `flock` on `<database>.lock`, held while a store has its database open. The
/// store keeps revision numbers and the watch cache in memory; a second process writing the
/// same file would hand out the same revisions, so it refuses to open it instead. The kernel
/// drops the lock when the process dies, kill -9 included.
final class DatabaseLock: Sendable {
    private let fd: Int32

    init(databasePath: String) throws {
        let path = databasePath + ".lock"
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw StoreError.io("the database \(databasePath) is held by another process: is a caravel server already running on this data directory?")
        }
    }

    deinit { close(fd) }
}
