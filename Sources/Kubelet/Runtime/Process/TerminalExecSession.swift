import Foundation
import KubeModel
#if canImport(Glibc)
import Glibc
#endif

/// A `kubectl exec -t` process on a pseudo-terminal: everything it writes comes from the
/// master as stdout (a terminal has one output stream), stdin and window sizes go to it.
/// The session ends when the command and everything else holding the terminal are gone.
final class TerminalExecSession: ExecSession {
    let output: AsyncStream<(stream: UInt8, bytes: [UInt8])>
    private let pid: pid_t
    private let exit: Task<Int32, Never>
    private let master: Locked<FileHandle?>
    private let masterFD: Int32

    init(pid: pid_t, exit: Task<Int32, Never>, master fd: Int32) {
        self.pid = pid
        self.exit = exit
        masterFD = fd
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: false)
        let master = Locked<FileHandle?>(handle)
        self.master = master
        let (stream, continuation) = AsyncStream<(stream: UInt8, bytes: [UInt8])>.makeStream()
        output = stream
        // Reading the master fails with EIO once the last slave descriptor is closed: the end.
        // Only this reader closes the master, so no read can reach a reused descriptor.
        Thread.detachNewThread {
            var buffer = [UInt8](repeating: 0, count: 32 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                continuation.yield((1, Array(buffer[0..<n])))
            }
            master.withLock { handle in
                handle = nil
                close(fd)
            }
            continuation.finish()
        }
    }

    func writeStdin(_ bytes: [UInt8]) async {
        master.withLock { handle in
            guard let current = handle else { return }
            do { try current.write(contentsOf: Data(bytes)) } catch { handle = nil }
        }
    }

    /// A terminal has no end of input to close; `^D` is what a shell reads as one.
    func closeStdin() async {}

    func resize(width: Int, height: Int) async {
        master.withLock { handle in
            if handle != nil { PseudoTerminal.resize(masterFD, width: width, height: height) }
        }
    }

    func wait() async -> Int32 {
        let code = await exit.value
        return code
    }

    /// Kills the command's session (it has one of its own, on the terminal) and the shim.
    func terminate() async {
        master.withLock { handle in
            guard handle != nil else { return }
            var sid: pid_t = 0
            if ioctl(masterFD, UInt(TIOCGSID), &sid) == 0 && sid > 0 { kill(-sid, SIGKILL) }
        }
        if kill(-pid, SIGKILL) != 0 { kill(pid, SIGKILL) }
    }
}
