import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens TCP connections to `127.0.0.1:PORT` as seen from inside a pod's network namespace,
/// for `kubectl port-forward`. A socket belongs to the namespace it was created in, so a
/// thread of its own enters the namespace (setns affects only the calling thread), creates
/// and connects the socket, and ends; the socket keeps working from any thread afterwards.
enum PodPortDialer {
    /// The connected socket's descriptor (owned by the caller). `netns` nil: the node's own
    /// loopback (host-network pods).
    static func connect(netns: String?, port: Int) async throws -> Int32 {
        guard (1...65535).contains(port) else { throw PodPortDialError(message: "invalid port \(port)") }
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try dialOnThisThread(netns: netns, port: port) })
            }
            thread.start()
        }
    }

    private static func dialOnThisThread(netns: String?, port: Int) throws -> Int32 {
        if let netns {
            let nsfd = open(netns, O_RDONLY | O_CLOEXEC)
            guard nsfd >= 0 else { throw PodPortDialError(message: "cannot open the pod's network namespace \(netns): \(errnoText())") }
            defer { close(nsfd) }
            guard enterNetworkNamespace(nsfd) == 0 else {
                throw PodPortDialError(message: "cannot enter the pod's network namespace \(netns): \(errnoText())")
            }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PodPortDialError(message: "socket: \(errnoText())") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let message = errnoText()
            close(fd)
            throw PodPortDialError(message: "dial tcp4 127.0.0.1:\(port): connect: \(message)")
        }
        return fd
    }

    /// As Go words it ("connection refused"), which is what clients' users know.
    private static func errnoText() -> String {
        let text = String(cString: strerror(errno))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    private typealias SetnsCall = @convention(c) (Int32, Int32) -> Int32

    /// setns(2) for the network namespace: a _GNU_SOURCE declaration the Glibc module does
    /// not import, so looked up in libc.
    private static func enterNetworkNamespace(_ fd: Int32) -> Int32 {
        guard let symbol = dlsym(nil, "setns") else { errno = ENOSYS; return -1 }
        return unsafeBitCast(symbol, to: SetnsCall.self)(fd, 0x4000_0000 /* CLONE_NEWNET */)
    }
}

/// Why a port of a pod could not be reached; the message is what `kubectl port-forward` shows.
public struct PodPortDialError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
