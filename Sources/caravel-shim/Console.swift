#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The console of a container with `stdin: true` (and `tty: true`), kept by the shim for its
/// lifetime so that `kubectl attach` can come and go: a pseudo-terminal (tty) or a pipe to the
/// process's stdin, and a Unix socket `attach.sock` in the container directory. The kubelet
/// connects there and sends frames `[type][length: UInt32 BE][payload]` (0 stdin bytes,
/// 1 window size `[width: UInt16 BE][height: UInt16 BE]`, 2 end of stdin); every attached
/// client gets the output as frames `[stream 1|2][length][payload]`.
struct Console {
    enum Mode: String { case tty, stdin }

    let mode: Mode
    /// Where stdin goes: the terminal's master, or the pipe's write end (-1 once closed).
    private var input: Int32
    /// What the process gets as stdin (the slave, which is also its stdout and stderr, or the
    /// pipe's read end); the shim closes it once the process has it.
    private(set) var childEnd: Int32
    /// With a terminal, the master: the process's output is read from it.
    private(set) var output: Int32 = -1
    private var listener: Int32
    private var clients: [(fd: Int32, pending: [UInt8])] = []
    /// Close stdin when the first attached client leaves (`stdinOnce`).
    private let stdinOnce: Bool
    private var attachedOnce = false

    init(mode: Mode, directory: String, stdinOnce: Bool) {
        self.mode = mode
        self.stdinOnce = stdinOnce
        switch mode {
        case .tty:
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
            var unlock: Int32 = 0, number: UInt32 = 0
            // TIOCSPTLCK and TIOCGPTN: unlockpt and ptsname, which Glibc's module does not import.
            guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
                fail("cannot open a pseudo-terminal: \(errnoString(errno))")
            }
            let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard slave >= 0 else { fail("open /dev/pts/\(number): \(errnoString(errno))") }
            output = master
            input = dup(master)
            _ = fcntl(input, F_SETFD, FD_CLOEXEC)
            childEnd = slave
        case .stdin:
            var fds: [Int32] = [-1, -1]
            guard cloexecPipe(&fds) else { fail("pipe: \(errnoString(errno))") }
            childEnd = fds[0]
            input = fds[1]
        }
        listener = Console.listen(directory)
    }

    /// The process has its end: the shim lets go of it.
    mutating func closeChildEnd() {
        close(childEnd)
        childEnd = -1
    }

    /// A listening socket at DIR/attach.sock (bound through the directory, as socket paths
    /// are limited to 107 bytes).
    private static func listen(_ directory: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { fail("socket: \(errnoString(errno))") }
        let saved = open(".", O_RDONLY | O_CLOEXEC)
        guard chdir(directory) == 0 else { fail("chdir \(directory): \(errnoString(errno))") }
        unlink("attach.sock")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in "attach.sock".utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 8) == 0 else { fail("attach socket in \(directory): \(errnoString(errno))") }
        if saved >= 0 { _ = fchdir(saved); close(saved) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        return fd
    }

    /// Descriptors to poll for input: the listener and every client.
    var pollDescriptors: [Int32] { [listener] + clients.map(\.fd) }

    /// Something arrived on `fd` (one of `pollDescriptors`).
    mutating func handle(_ fd: Int32) {
        if fd == listener {
            let client = accept(listener, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                clients.append((client, []))
                attachedOnce = true
            }
            return
        }
        guard let index = clients.firstIndex(where: { $0.fd == fd }) else { return }
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return }
        guard n > 0 else {
            close(fd)
            clients.remove(at: index)
            if stdinOnce && clients.isEmpty && attachedOnce { endInput() }
            return
        }
        clients[index].pending += buffer[0..<n]
        while clients[index].pending.count >= 5 {
            let pending = clients[index].pending
            let length = Int(pending[1]) << 24 | Int(pending[2]) << 16 | Int(pending[3]) << 8 | Int(pending[4])
            guard pending.count >= 5 + length else { break }
            let payload = Array(pending[5..<(5 + length)])
            clients[index].pending.removeFirst(5 + length)
            switch pending[0] {
            case 0: if input >= 0 { writeAll(input, payload) }
            case 1 where payload.count == 4 && mode == .tty:
                var size = winsize(ws_row: UInt16(payload[2]) << 8 | UInt16(payload[3]),
                                   ws_col: UInt16(payload[0]) << 8 | UInt16(payload[1]), ws_xpixel: 0, ws_ypixel: 0)
                _ = ioctl(input, UInt(TIOCSWINSZ), &size)
            case 2: if mode == .stdin { endInput() }
            default: break
            }
        }
    }

    /// Output of the process to every attached client; a client that cannot take it is dropped.
    mutating func broadcast(stream: UInt8, _ bytes: ArraySlice<UInt8>) {
        guard !clients.isEmpty else { return }
        let count = UInt32(bytes.count)
        let frame = [stream, UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + bytes
        for client in clients { writeAll(client.fd, frame) }
    }

    private mutating func endInput() {
        guard mode == .stdin, input >= 0 else { return }
        close(input)
        input = -1
    }

    /// The process is gone: clients see the socket close, the socket file goes.
    mutating func shutDown(directory: String) {
        for client in clients { Glibc.close(client.fd) }
        clients = []
        Glibc.close(listener)
        if input >= 0 { Glibc.close(input) }
        unlink(directory + "/attach.sock")
    }
}
