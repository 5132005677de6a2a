import KubeModel

/// `tcpSocket` probes: success when a TCP connection opens within the timeout.
enum TCPSocketProbe {
    static func run(_ action: JSONValue, target: ProbeTarget, timeout: Duration) async -> ProbeResult {
        let port: Int
        switch ProbeSpec.resolvePort(action["port"], container: target.container) {
        case .success(let p): port = p
        case .failure(let e): return .failure(e.description)
        }
        let host = action["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? target.podIP
        do {
            // The session is done as soon as it starts: connecting is the whole check.
            _ = try await ProbeConnection.exchange(host: host, port: port, deadline: .now + timeout,
                                                   session: { ConnectOnlySession() })
            return .success
        } catch {
            return .failure("dial tcp \(ProbeConnection.hostPort(host, port)): \(ProbeConnection.describe(error))")
        }
    }
}

private final class ConnectOnlySession: ProbeSession {
    var finishesOnConnect: Bool { true }
    func start() -> [UInt8] { [] }
    func receive(_ received: [UInt8]) -> (reply: [UInt8], done: Bool) { ([], true) }
}
