import Foundation

/// A loopback TCP port nobody listens on right now (the kernel's pick for a bound, unused socket).
public func freeLoopbackPort() throws -> Int {
    let socket = try BoundLoopbackSocket()
    defer { socket.close() }
    return socket.port
}

/// A TCP socket bound to a loopback port of the kernel's choosing, not listening: it holds the
/// port as a connection's local end does, until `close()`.
public struct BoundLoopbackSocket: Sendable {
    public let port: Int
    private let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Gives the port back.
    public func close() { _ = Glibc.close(fd) }
}
