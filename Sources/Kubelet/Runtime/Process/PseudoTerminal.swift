import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair for `kubectl exec -t`: the command gets the slave as its stdin,
/// stdout and stderr (and, through `caravel-shim exec --tty`, as its controlling terminal);
/// the kubelet keeps the master, reads the output from it, writes the input to it and sets
/// the window size on it.
struct PseudoTerminal {
    let master: Int32
    let slave: Int32

    static func open() throws -> PseudoTerminal {
        // /dev/ptmx and two ioctls: what posix_openpt, unlockpt and ptsname do on Linux (the
        // Glibc module does not import those XSI declarations).
        let master = Glibc.open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { throw ContainerStartError(reason: "ExecError", message: "/dev/ptmx: \(String(cString: strerror(errno)))") }
        var unlock: Int32 = 0, number: UInt32 = 0
        guard ioctl(master, Self.setLock, &unlock) == 0, ioctl(master, Self.getNumber, &number) == 0 else {
            close(master)
            throw ContainerStartError(reason: "ExecError", message: "cannot unlock the pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        let slave = Glibc.open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else {
            close(master)
            throw ContainerStartError(reason: "ExecError", message: "cannot open /dev/pts/\(number): \(String(cString: strerror(errno)))")
        }
        return PseudoTerminal(master: master, slave: slave)
    }

    /// TIOCSPTLCK and TIOCGPTN (`_IOW('T', 0x31, int)`, `_IOR('T', 0x30, unsigned int)`).
    private static let setLock: UInt = 0x4004_5431, getNumber: UInt = 0x8004_5430

    /// Sets the terminal's size; the foreground process group gets SIGWINCH.
    static func resize(_ fd: Int32, width: Int, height: Int) {
        guard width > 0, height > 0, width <= Int(UInt16.max), height <= Int(UInt16.max) else { return }
        var size = winsize(ws_row: UInt16(height), ws_col: UInt16(width), ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(fd, UInt(TIOCSWINSZ), &size)
    }
}
