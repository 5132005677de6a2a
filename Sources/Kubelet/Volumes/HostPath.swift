#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// hostPath volumes: the node's own path, checked (or created) per `type` as Kubernetes does.
/// The kubelet never removes it.
enum HostPath {
    static func prepare(path: String, type: String) throws {
        func fail(_ what: String) -> ContainerStartError {
            DownwardValues.configError("hostPath type check failed: \(path) \(what)")
        }
        let kind = fileType(path)
        switch type {
        case "":
            return
        case "DirectoryOrCreate":
            guard let kind else {
                do {
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o755])
                } catch {
                    throw fail("could not be created as a directory: \(error.localizedDescription)")
                }
                return
            }
            if kind != S_IFDIR { throw fail("is not a directory") }
        case "Directory":
            if kind != S_IFDIR { throw fail(kind == nil ? "does not exist (type Directory)" : "is not a directory") }
        case "FileOrCreate":
            guard let kind else {
                // Like Kubernetes, the parent directory is not created.
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw fail("could not be created as a file: \(String(cString: strerror(errno)))") }
                fchmod(fd, 0o644)
                close(fd)
                return
            }
            if kind != S_IFREG { throw fail("is not a file") }
        case "File":
            if kind != S_IFREG { throw fail(kind == nil ? "does not exist (type File)" : "is not a file") }
        case "Socket":
            if kind != S_IFSOCK { throw fail(kind == nil ? "does not exist (type Socket)" : "is not a socket file") }
        case "CharDevice":
            if kind != S_IFCHR { throw fail(kind == nil ? "does not exist (type CharDevice)" : "is not a character device") }
        case "BlockDevice":
            if kind != S_IFBLK { throw fail(kind == nil ? "does not exist (type BlockDevice)" : "is not a block device") }
        default:
            throw DownwardValues.configError("invalid hostPath type \"\(type)\" for \(path)")
        }
    }

    /// The file type bits (following symlinks, as Kubernetes' checks do); nil when absent.
    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }
}
