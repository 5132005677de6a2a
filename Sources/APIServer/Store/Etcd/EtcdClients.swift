import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

typealias EtcdTransport = HTTP2ClientTransport.Posix

/// One gRPC client per configured endpoint; calls go to the current one, and when it cannot
/// be reached the next takes over, as etcd's own client balances over `--endpoints`. The
/// connections run in one task owned here, ended by `close()`.
final class EtcdClients: Sendable {
    let endpoints: [EtcdConfiguration.Endpoint]
    private let clients: [GRPCClient<EtcdTransport>]
    private let current = Atomic<Int>(0)
    private let connections: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// How long one call may wait for an endpoint before the next one is tried.
    static let callTimeout: Duration = .seconds(10)

    init(_ config: EtcdConfiguration) throws {
        endpoints = config.endpoints
        clients = try config.endpoints.map { endpoint in
            var transport = HTTP2ClientTransport.Posix.Config.defaults
            transport.channelDebuggingCallbacks.onCreateTCPConnection = EtcdPingResponder.install
            return GRPCClient(transport: try .http2NIOPosix(target: Self.target(endpoint), transportSecurity: Self.security(endpoint, config),
                                                            config: transport))
        }
        let clients = clients
        connections.withLock {
            $0 = Task {
                await withDiscardingTaskGroup { group in
                    for client in clients { group.addTask { try? await client.runConnections() } }
                }
            }
        }
    }

    private static func target(_ endpoint: EtcdConfiguration.Endpoint) -> any ResolvableTarget {
        if endpoint.host.split(separator: ".").count == 4, endpoint.host.allSatisfy({ $0.isNumber || $0 == "." }) {
            return .ipv4(address: endpoint.host, port: endpoint.port)
        }
        if endpoint.host.contains(":") { return .ipv6(address: endpoint.host, port: endpoint.port) }
        return .dns(host: endpoint.host, port: endpoint.port)
    }

    private static func security(_ endpoint: EtcdConfiguration.Endpoint, _ config: EtcdConfiguration)
        -> HTTP2ClientTransport.Posix.TransportSecurity
    {
        guard endpoint.tls else { return .plaintext }
        let roots: TLSConfig.TrustRootsSource = config.caFile.map { .certificates([.file(path: $0, format: .pem)]) } ?? .systemDefault
        if let cert = config.certFile, let key = config.keyFile {
            return .mTLS(certificateChain: [.file(path: cert, format: .pem)], privateKey: .file(path: key, format: .pem)) {
                $0.trustRoots = roots
            }
        }
        return .tls { $0.trustRoots = roots }
    }

    /// Options of every call: fail rather than queue while an endpoint is down, so the next
    /// one is tried.
    static var options: CallOptions {
        var o = CallOptions.defaults
        o.timeout = callTimeout
        o.waitForReady = false
        return o
    }

    /// The client calls go to now.
    var active: (index: Int, client: GRPCClient<EtcdTransport>) {
        let i = current.load(ordering: .relaxed) % clients.count
        return (i, clients[i])
    }

    /// Moves on from endpoint `index` (unless another caller already did).
    func failover(from index: Int) {
        _ = current.compareExchange(expected: index, desired: (index + 1) % clients.count, ordering: .relaxed)
    }

    /// Whether an error means the endpoint is unreachable (not that etcd refused the request).
    static func isUnreachable(_ error: any Error) -> Bool {
        guard let rpc = error as? RPCError else { return false }
        return rpc.code == .unavailable || rpc.code == .deadlineExceeded
    }

    /// Runs a read (safe to repeat) against the current endpoint; when the endpoint is
    /// unreachable or its connection drops, the call is tried again, on the next endpoint, a
    /// few rounds. Connections do drop in normal operation: etcd's gRPC server pings after
    /// each request it receives (window estimation), and the HTTP/2 client closes a
    /// connection past 200 pings in 30 seconds; the next call opens a new one.
    func call<R: Sendable>(_ body: (GRPCClient<EtcdTransport>) async throws -> R) async throws -> R {
        var last: (any Error)?
        for attempt in 0..<(3 * clients.count + 2) {
            let (index, client) = active
            do {
                return try await body(client)
            } catch where Self.isUnreachable(error) {
                last = error
                failover(from: index)
                if attempt >= clients.count { try await Task.sleep(for: .milliseconds(100)) }
            }
        }
        throw StoreError.io("etcd is unreachable at \(endpoints.map(\.description).joined(separator: ",")): \(last.map { "\($0)" } ?? "")")
    }

    /// Runs a write once: when its connection drops, whether etcd applied it is unknown, so
    /// the caller gets `AmbiguousWrite` and reads the key to find out.
    func write<R: Sendable>(_ body: (GRPCClient<EtcdTransport>) async throws -> R) async throws -> R {
        let (index, client) = active
        do {
            return try await body(client)
        } catch where Self.isUnreachable(error) {
            failover(from: index)
            throw AmbiguousWrite(cause: error)
        }
    }

    /// A write whose connection dropped before its answer came.
    struct AmbiguousWrite: Error { var cause: any Error }

    /// Closes every connection; calls in flight fail.
    func close() {
        for client in clients { client.beginGracefulShutdown() }
        connections.withLock { $0?.cancel(); $0 = nil }
    }
}
