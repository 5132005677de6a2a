import Foundation
import KubeModel
#if canImport(Glibc)
import Glibc
#endif

/// `kubectl attach` to a container's console, held by its shim: a connection to the Unix
/// socket `attach.sock` in the container directory. Frames both ways are
/// `[type][length: UInt32 BE][payload]`: to the shim 0 stdin, 1 window size, 2 end of stdin;
/// from it the output as stream 1 (stdout, or the terminal) and 2 (stderr).
final class ConsoleAttachSession: ExecSession {
    let output: AsyncStream<(stream: UInt8, bytes: [UInt8])>
    private let fd: Int32
    private let open: Locked<Bool>
    private let ended: Task<Void, Never>

    init(containerDirectory: String) throws {
        // Socket paths are limited to 107 bytes: connect through the directory's descriptor.
        let dir = Glibc.open(containerDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dir >= 0 else { throw Self.error("container directory \(containerDirectory): \(String(cString: strerror(errno)))") }
        defer { close(dir) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Self.error("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array("/proc/self/fd/\(dir)/attach.sock".utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.enumerated() where i < raw.count - 1 { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Self.error("the container has no console to attach to (it needs stdin: true or tty: true)")
        }
        self.fd = fd
        open = Locked(true)
        let (stream, continuation) = AsyncStream<(stream: UInt8, bytes: [UInt8])>.makeStream()
        output = stream
        let (done, finished) = AsyncStream<Void>.makeStream()
        ended = Task { for await _ in done {} }
        Thread.detachNewThread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 32 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                pending += buffer[0..<n]
                while pending.count >= 5 {
                    let length = Int(pending[1]) << 24 | Int(pending[2]) << 16 | Int(pending[3]) << 8 | Int(pending[4])
                    guard pending.count >= 5 + length else { break }
                    continuation.yield((pending[0], Array(pending[5..<(5 + length)])))
                    pending.removeFirst(5 + length)
                }
            }
            continuation.finish()
            finished.finish()
        }
    }

    private static func error(_ message: String) -> ContainerStartError {
        ContainerStartError(reason: "AttachError", message: message)
    }

    private func sendFrame(_ type: UInt8, _ payload: [UInt8]) {
        open.withLock { isOpen in
            guard isOpen else { return }
            let count = UInt32(payload.count)
            let frame = [type, UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + payload
            var offset = 0
            while offset < frame.count {
                let n = frame.withUnsafeBytes { Glibc.send(fd, $0.baseAddress.map { $0 + offset }, frame.count - offset, Int32(MSG_NOSIGNAL)) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    func writeStdin(_ bytes: [UInt8]) async { sendFrame(0, bytes) }

    func closeStdin() async { sendFrame(2, []) }

    func resize(width: Int, height: Int) async {
        guard (1...Int(UInt16.max)).contains(width), (1...Int(UInt16.max)).contains(height) else { return }
        sendFrame(1, [UInt8(width >> 8), UInt8(width & 0xff), UInt8(height >> 8), UInt8(height & 0xff)])
    }

    /// Until the container's console closes (it exited) or the client detached; attach has no
    /// exit code of its own.
    func wait() async -> Int32 {
        await ended.value
        return 0
    }

    /// Detaches: the reader sees the end, the descriptor is closed once.
    func terminate() async {
        open.withLock { isOpen in
            if isOpen { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
