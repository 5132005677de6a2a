import Foundation
import KubeModel
import Testing
@testable import KubeTesting

/// The in-process API server the unit tests share.
@Suite struct InProcessAPIServerTests {
    /// A socket bound to a free loopback port without listening, as a connection's local end
    /// holds one; closed on `close()`.
    struct BoundSocket {
        let fd: Int32
        let port: Int

        init() throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let fd = self.fd
            let ok = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
                }
            }
            guard fd >= 0, ok else { throw POSIXError(.EADDRINUSE) }
            port = Int(UInt16(bigEndian: addr.sin_port))
        }

        func close() { _ = Glibc.close(fd) }
    }

    @Test(.timeLimit(.minutes(5))) func aServerWhosePortWasTakenStartsAgainOnAnother() async throws {
        let taken = try BoundSocket()
        defer { taken.close() }
        // The first port offered is the taken one, as when a connection took it between the
        // choice and the bind.
        let offered = Locked<[Int]>([])
        try await withInProcessAPIServer(ports: {
            let port = try offered.value.isEmpty ? taken.port : freeLoopbackPort()
            offered.withLock { $0.append(port) }
            return port
        }) { client, config in
            #expect(config.port != taken.port)
            let answer = try await client.raw("GET", "/readyz")
            #expect(answer == Array("ok".utf8))
        }
        #expect(offered.value.count == 2)
        #expect(offered.value.first == taken.port)
    }
}
